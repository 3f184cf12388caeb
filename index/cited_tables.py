"""Tables that passages cite ("as summarized in Table 1"), found by their caption in
the same paper. A question about a number is often answered by a table while
retrieval finds the prose that cites it (the prose names the model as the
question does, "ViT-L/16"; the table writes "ViT-Large"): `ask` hands the
generator the table too (docs/answers.md#cited-tables).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from paperlens.index.hits import Hit, Passage

# "Table 2", "Tab. 2", "Tables 1 and 2", "Tables 3, 4"
CITED = re.compile(r"\b(?:Tables?|Tab\.)\s*(\d+(?:\s*(?:,|and|&)\s*\d+)*)\b")
# A caption: "Table 2:" anywhere (PDF text often runs the rows into it), or
# "Table 2." opening a line.
CAPTION = re.compile(r"(?m)(?<![\w.])Table\s+(\d+)\s*:|^\s*Table\s+(\d+)\.")


def cited_tables(
    hits: Sequence[Hit], paper_passages: Callable[[str], list[Passage]], limit: int
) -> list[tuple[int, Passage]]:
    """(position of the citing hit, the table's passage) for the first `limit` tables
    the PDF passages of `hits` cite that are not among `hits`, in the hits' order."""
    given = {h.passage_id for h in hits}
    found: list[tuple[int, Passage]] = []
    captions: dict[str, dict[int, Passage]] = {}
    for position, hit in enumerate(hits):
        if hit.kind != "pdf":
            continue
        for number in _cited_numbers(hit.passage):
            if len(found) >= limit:
                return found
            if hit.paper_id not in captions:
                captions[hit.paper_id] = _captioned(paper_passages(hit.paper_id))
            table = captions[hit.paper_id].get(number)
            if table is not None and table.id not in given:
                given.add(table.id)
                found.append((position, table))
    return found


def _cited_numbers(text: str) -> list[int]:
    return [int(n) for match in CITED.finditer(text) for n in re.findall(r"\d+", match[1])]


def _captioned(passages: list[Passage]) -> dict[int, Passage]:
    """Table number -> the passage holding its caption (the first, if split)."""
    tables: dict[int, Passage] = {}
    for passage in passages:
        for match in CAPTION.finditer(passage.text):
            tables.setdefault(int(match[1] or match[2]), passage)
    return tables
