"""HTML and Markdown the app shows: answers, citations, tables, passages in context, errors.

Every piece of document text is escaped here; links are only ever http(s).
Functions take already-computed results and return strings: no Gradio, no I/O.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence

from paperlens.assistant.answers import Answer
from paperlens.assistant.evidence import Evidence
from paperlens.assistant.markup import markdown_literal
from paperlens.assistant.relevance import WEAK_EVIDENCE
from paperlens.index.hits import snippet
from paperlens.ingest.errors import PaperlensError, user_error


def safe_url(url: str | None) -> str | None:
    """The URL if it is a plain http(s) one, else None (never javascript:, data:...)."""
    return url if url and re.match(r"^https?://[^\s\"'<>]+$", url) else None


def link(url: str | None, text: str) -> str:
    url = safe_url(url)
    label = html.escape(text)
    return (
        f'<a href="{html.escape(url)}" target="_blank" rel="noopener">{label}</a>' if url else label
    )


def warning_line(message: str) -> str:
    """The one markup of a problem shown to a user (HTML and Markdown panels alike)."""
    return f"⚠️ {html.escape(message)}"


def error_line(exc: Exception) -> str:
    """One escaped line for a user-caused or environmental error; re-raises bugs."""
    known = exc if isinstance(exc, PaperlensError) else user_error(exc)
    if known is None:
        raise exc
    return warning_line(str(known))


def error_html(exc: Exception) -> str:
    """error_line as a paragraph, for HTML panels."""
    return f"<p>{error_line(exc)}</p>"


def guarded(render: Callable[[], str]) -> str:
    """The HTML `render` returns, or the error a user caused as a paragraph."""
    try:
        return render()
    except Exception as exc:  # error_line re-raises what is not the user's
        return error_html(exc)


def sources_panel(answer: Answer | None, panel: str = "ask-sources") -> str:
    """Cited passages, each clickable to show it in context, with its scores."""
    if answer is None or not answer.citations:
        return "<p><em>No cited passages.</em></p>"
    items = []
    for c in answer.citations:
        where = f", page {c.page}" if c.page else ""
        items.append(
            f'<div class="pl-source" id="{panel}-{c.n}" data-n="{c.n}"'
            f'{passage_attr(c.passage_id)} title="Show this passage in context">'
            f"<strong>[{c.n}]</strong> {link(c.url, c.title)}{html.escape(where)} "
            f"{score_badge(c.score, c.relevance)}"
            f"<blockquote>{html.escape(c.passage)}</blockquote></div>"
        )
    mode = {"extractive": " (retrieval only)", "no-results": ""}.get(answer.mode, "")
    notes = "".join(
        f'<p class="{"pl-weak" if w.startswith("weak evidence") else ""}"><em>Note: '
        f"{html.escape(w)}</em></p>"
        for w in answer.warnings
    )
    hint = "<p class='pl-score'>Click a passage to see it in its page or digest entry.</p>"
    return f"{notes}<h4>Sources{html.escape(mode)}</h4>{hint}" + "".join(items)


def score_badge(score: float | None, relevance: float | None = None) -> str:
    parts = []
    if relevance is not None:
        weak = " pl-weak" if relevance < WEAK_EVIDENCE else ""
        parts.append(f'<span class="pl-score{weak}">relevance {relevance:.2f}</span>')
    if score is not None:
        parts.append(f'<span class="pl-score">score {score:.2f}</span>')
    return " · ".join(parts)


def cite_links(text: str, panel: str, escape: Callable[[str], str] = html.escape) -> str:
    """Escaped answer text whose [n] markers click the matching sources entry.

    `escape` is html.escape for HTML panels, markdown_literal for the chatbot
    (which renders Markdown: answer text quotes documents)."""
    parts = re.split(r"\[(\d+)\]", text or "")
    return "".join(
        escape(part)
        if i % 2 == 0
        else (
            f'<a class="pl-cite" href="#{panel}-{part}" data-panel="{panel}-box" '
            f'data-n="{part}">[{part}]</a>'
        )
        for i, part in enumerate(parts)
    )


def hits_table(hits, missing: Sequence[str] = ()) -> str:
    """Search results; `missing`: names of the query no result mentions."""
    note = (
        f'<p class="pl-weak"><em>No result mentions {html.escape(", ".join(missing))}: '
        "the library may not hold it.</em></p>"
        if missing
        else ""
    )
    return note + _hits_rows(hits)


def _hits_rows(hits) -> str:
    rows = [
        [
            str(h.rank),
            link(h.url, h.title),
            html.escape(h.arxiv_id or ""),
            f"{h.score:.3f}",
            html.escape(h.lang or "?") + (f", p.{h.page}" if h.page else ""),
            html.escape(snippet(h.passage, 220)),
        ]
        for h in hits
    ]
    attrs = [passage_attr(h.passage_id) for h in hits]
    return table(["#", "Paper", "arXiv", "Score", "Where", "Passage"], rows, "No results.", attrs)


def similar_table(results) -> str:
    rows = [
        [
            str(i),
            link(r.paper.url, r.paper.title),
            html.escape(r.paper.arxiv_id or ""),
            f"{r.score:.3f}",
            html.escape(snippet(r.why[0].text, 220) if r.why else ""),
        ]
        for i, r in enumerate(results, 1)
    ]
    attrs = [passage_attr(r.why[0].id if r.why else None) for r in results]
    return table(["#", "Paper", "arXiv", "Score", "Why"], rows, "No similar papers.", attrs)


def table(
    headers: list[str], rows: list[list[str]], empty: str, attrs: list[str] | None = None
) -> str:
    """An HTML table from cells that are already escaped."""
    if not rows:
        return f"<p><em>{empty}</em></p>"
    attrs = attrs or [""] * len(rows)
    head = "<tr>" + "".join(f"<th>{h}</th>" for h in headers) + "</tr>"
    body = "".join(
        f"<tr{a}>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>"
        for row, a in zip(rows, attrs, strict=True)
    )
    return f"<table class='pl-table'>{head}{body}</table>"


def passage_attr(passage_id: int | None) -> str:
    """The attribute that makes an element open its passage in context when clicked."""
    return f' data-passage="{int(passage_id)}"' if passage_id is not None else ""


def evidence_html(evidence: Evidence, link_url: str | None) -> str:
    """The header and text of a passage shown in context (the page image is separate)."""
    where = f"page {evidence.page}" if evidence.page else evidence.kind
    opener = (
        f' · <a href="{html.escape(link_url)}" target="_blank" rel="noopener">'
        f"{'open the PDF at this page' if evidence.kind == 'pdf' else 'open the source'}</a>"
        if link_url
        else ""
    )
    source = (
        ""
        if evidence.kind == "pdf"
        else f"<p class='pl-score'>from {html.escape(evidence.source)}</p>"
    )
    notes = "".join(f"<p><em>{html.escape(n)}</em></p>" for n in evidence.notes)
    body = evidence.context or evidence.text
    quoted = html.escape(body)
    if evidence.context and evidence.text in body:  # mark the passage inside its entry
        quoted = quoted.replace(
            html.escape(evidence.text), f"<mark>{html.escape(evidence.text)}</mark>", 1
        )
    return (
        f"<div class='pl-evidence'><h4>{html.escape(evidence.title)} — {html.escape(where)}"
        f"{opener}</h4>{source}{notes}<blockquote>{quoted}</blockquote></div>"
    )


def report_lines(events: list[str]) -> str:
    """Ingest events (they quote titles and URLs from documents) as a Markdown list."""
    return "\n".join(f"- {markdown_literal(e)}" for e in events)
