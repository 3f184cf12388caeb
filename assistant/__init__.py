"""Answers, summaries and similar papers on top of the index; the CLI."""
