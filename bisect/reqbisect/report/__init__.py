"""Turning results into words: patch summaries, JSON, Markdown, curl repros, redaction.

Layout (imports point down the list)::

    files.py          ``--report-dir``: report.md, curl scripts, body files and HAR beside it
    markdown.py       the bug report, in Markdown for an issue tracker (at most 65,536 characters)
    repro.py          the minimal requests as curl commands; large bodies summarised
    diffview.py       the minimal pair as a unified diff whose changed lines are the patch
    markup.py         Markdown primitives: escaping, fences, folds, fitting a size
    json.py           the ``--json`` object
    patch.py          patch operations and response changes in plain words
    redact.py         the Redactor: which values are secret, hidden in documents, patches, replies, text
    places.py         which places may hold a secret (by name, cookie, credential position; --redact, --keep)
    shapes.py         secrets found by their shape in free text (JWTs, vendor keys, ``name=value``)
    placeholders.py   ``<redacted:LABEL#N>``: spelling, numbering, searching for known values

The result's own type is referred to for type checking only, so ``reqbisect.result``
can import this package without a cycle.
"""
