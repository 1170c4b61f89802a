"""Notices: the letters a decision calls for, as compliance staff send them.

Notices render from Jinja2 templates in `policies/notices/` (coming next);
this package so far holds `amounts`, which writes money amounts in Chinese
uppercase financial numerals (大写) for those templates.
"""
