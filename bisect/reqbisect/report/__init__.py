"""Turning results into words: patch summaries, JSON, Markdown, curl repros, redaction."""
