"""Section headings in text extracted from a PDF ("4.2 Results", "Discussion").

Both the PDF reader (which keeps a heading on a line of its own) and the
chunker (which starts a passage at one, docs/retrieval-pages.md#heading-cuts)
ask the same question of a line, so the answer lives here.
"""

from __future__ import annotations

import re

HEADING = re.compile(
    r"^(?:\d+(?:\.\d+)*\.?\s+[A-Z][\w\-]*(?:\s+[\w\-]+){0,7}"
    r"|(?:abstract|introduction|related work|background|methods?|experiments?|results"
    r"|discussion|conclusions?|acknowledge?ments|appendix|limitations))$",
    re.I,
)
# A numbered heading is short; a longer line that matches is a sentence that opens
# with a number ("3 Models were trained ...").
MAX_HEADING_CHARS = 70


def is_heading(line: str) -> bool:
    """A line that is a section heading: short, heading-shaped, not a sentence."""
    return len(line) < MAX_HEADING_CHARS and bool(HEADING.match(line)) and not line.endswith(".")
