"""Notices: the letters a decision calls for, as compliance staff send them.

`loan` reads a loan file into checked records, `render` fills the Jinja2
templates of `policies/notices/` with them, `command` is `policylang notice`,
and `amounts` writes money amounts in Chinese uppercase financial numerals (大写).
"""
