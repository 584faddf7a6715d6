"""Turning results into words: patch summaries, JSON, Markdown, curl repros, redaction.

Layout (imports point down the list)::

    markdown.py       the bug report, in Markdown for an issue tracker
    json.py           the ``--json`` object
    patch.py          patch operations and response changes in plain words
    redact.py         the Redactor: which values are secret, hidden in documents, patches, replies, text
    shapes.py         secrets found by their shape in free text (JWTs, vendor keys, ``name=value``)
    placeholders.py   ``<redacted:LABEL#N>``: spelling, numbering, searching for known values

The result's own type is referred to for type checking only, so ``reqbisect.result``
can import this package without a cycle.
"""
