"""Document text shown in Markdown components: literal text, never markup.

The chatbot and the Library report render Markdown, and HTML escaping alone
leaves Markdown syntax alive: a digest's `![x](https://tracker/p.png)` became
an <img> the browser fetched (a beacon telling a third party who reads what),
and `[click](javascript:…)` a link. Every Markdown punctuation character is
backslash-escaped (CommonMark allows it for any ASCII punctuation) and HTML
is escaped, so the reader sees exactly the characters the document holds.
"""

from __future__ import annotations

import html
import re

# Not & < > " ' : those are HTML-escaped instead (a backslash before "&lt;" would
# be shown). `$` too: the chatbot renders LaTeX between dollar signs.
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$=^:])")


def markdown_literal(text: str) -> str:
    """`text` as it should be read, safe inside a Markdown (or HTML) component."""
    return html.escape(_MARKDOWN.sub(r"\\\1", text or ""), quote=True)
