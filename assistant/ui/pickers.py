"""The paper pickers (Similar papers, Summarize): every title a paper has, in every
language, with its id in brackets; a chosen entry back to that id."""

from __future__ import annotations

import re

from paperlens.index.library import Library


def paper_choices(library: Library, papers: list | None = None) -> list[str]:
    """ "Title [id]" for each paper and each of its titles in another language."""
    papers = library.store.papers() if papers is None else papers
    choices = []
    for p in papers:
        choices.append(f"{p.title} [{p.arxiv_id or p.id}]")
        choices += [f"{t} [{p.arxiv_id or p.id}]" for t in p.titles.values() if t != p.title]
    return choices


def paper_ref(choice: str) -> str:
    """ "Title [2106.09685]" -> "2106.09685"; free text passes through."""
    match = re.search(r"\[([^\[\]]+)\]\s*$", choice or "")
    return match.group(1) if match else (choice or "").strip()
