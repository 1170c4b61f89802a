"""The review document: a policy rendered for sign-off (`policylang doc`).

`model.py` gathers the content (metadata, rules in plain words grouped by stage,
params, the day-by-day ladder, assertions with their proof status, differences from
a previous version); `words.py` says conditions and actions in plain words;
`timeline.py` evaluates typical loans day by day and `chart.py` draws them;
`html.py` and `markdown.py` lay the content out; `texts.py` holds the fixed words in
both languages; `command.py` is the CLI command.
"""
