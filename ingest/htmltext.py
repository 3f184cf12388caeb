"""HTML -> plain text that keeps the structure digest parsing relies on.

Headings become Markdown headings (`### title`), list items bullets, block
quotes `> ` lines, and each block's link targets follow it on lines of their
own, so the text parser finds paper links exactly as in a plain-text digest.
"""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

SKIP = {"script", "style", "nav", "footer", "header", "noscript", "svg", "form", "button"}
HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
BLOCKS = {"p", "li", "blockquote", "pre", "td", "th", "dt", "dd", "figcaption", "caption"}
CONTAINERS = {"div", "section", "article", "main", "body", "ul", "ol", "table", "tbody", "tr", "dl"}


def html_to_text(html: str) -> str:
    """Readable text with one block per line; link targets kept on their own lines."""
    tree = HTMLParser(html)
    for tag in SKIP:
        for node in tree.css(tag):
            node.decompose()
    root = tree.body or tree.root
    if root is None:
        return ""
    lines: list[str] = []
    _walk(root, lines)
    return "\n".join(lines).strip() + "\n"


def _walk(node: Node, lines: list[str]) -> None:
    for child in node.iter(include_text=False):
        tag = child.tag
        if tag in HEADINGS:
            _emit(lines, "#" * HEADINGS[tag] + " " + _text(child), child)
        elif tag in BLOCKS and not _has_blocks(child):
            prefix = {"li": "• ", "blockquote": "> "}.get(tag, "")
            _emit(lines, prefix + _text(child), child)
        elif tag in BLOCKS or tag in CONTAINERS or _has_blocks(child):
            _walk(child, lines)
        else:
            _emit(lines, _text(child), child)


def _emit(lines: list[str], text: str, node: Node) -> None:
    text = text.strip()
    if text and text not in ("•", ">", "#"):
        lines.append("")
        lines.append(text)
    for link in node.css("a[href]"):
        href = (link.attributes.get("href") or "").strip()
        if href.startswith(("http://", "https://")):
            lines.append(href)


def _has_blocks(node: Node) -> bool:
    return any(
        child.tag in BLOCKS or child.tag in HEADINGS or child.tag in CONTAINERS
        for child in node.iter(include_text=False)
    )


def _text(node: Node) -> str:
    return " ".join(node.text(separator=" ").split())


def html_title(html: str) -> str | None:
    """A page's <title>, spaces folded; None when it has none."""
    node = HTMLParser(html).css_first("title")
    return (_text(node) or None) if node is not None else None


def looks_like_html(text: str) -> bool:
    head = text[:2000].lstrip().lower()
    return head.startswith(("<!doctype html", "<html")) or (
        "<body" in head or ("<p>" in head and "</p>" in head) or "<h1" in head or "<h3" in head
    )
