"""Citation markers: keep only [n] that refer to a passage the model was given."""

from __future__ import annotations

import re

# [1], [1, 2], [1][2], full-width ［1］ and 【1】
MARKER = re.compile(r"[\[［【]\s*(\d+(?:\s*[,，、]\s*\d+)*)\s*[\]］】]")


def check_citations(answer: str, n_passages: int) -> tuple[str, list[int], int]:
    """(answer with invalid markers removed, cited passage numbers, markers removed)."""
    cited: set[int] = set()
    removed = 0

    def keep_valid(match: re.Match) -> str:
        nonlocal removed
        numbers = [int(n) for n in re.split(r"\s*[,，、]\s*", match[1])]
        valid = [n for n in numbers if 1 <= n <= n_passages]
        removed += len(numbers) - len(valid)
        cited.update(valid)
        return "".join(f"[{n}]" for n in valid)

    cleaned = MARKER.sub(keep_valid, answer)
    cleaned = re.sub(r"[ \t]+([.,;:。、])", r"\1", cleaned)  # no space left before punctuation
    return cleaned, sorted(cited), removed
