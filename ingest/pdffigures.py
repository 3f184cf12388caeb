"""The characters a PDF page draws inside its figures (axis ticks, legends, labels).

LaTeX places an included figure (a plot from matplotlib, a diagram) as a
Form XObject, and pdfium's text layer reads the text inside it like any
other: "0 10 20 30 iter. (1e4) error (%) plain-20 ResNet-20 ...". Read as
a passage, that text matches a question's names (datasets, models) without
stating anything, and it outranked the sentences that answer
(docs/retrieval-pages.md#figure-text). The figure's caption is page text,
outside the form, and stays.

A form that holds sentences (PaLM's worked examples, a boxed definition) is
content, not a drawing: it keeps its text when it holds at least
MIN_LOWERCASE_WORDS different lowercase words (a drawing repeats its few: the
Transformer paper's attention maps write one sentence on both axes). Tables
are set as page text by LaTeX and are not touched; a table pasted in as a
figure would lose its cells.
"""

from __future__ import annotations

import ctypes
import re

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

# Lowercase words of two letters or more: "the", "tennis", not the single
# letters of a word drawn letter by letter ("T h e L a w").
LOWERCASE_WORD = re.compile(r"(?<!\S)[a-z][a-z'’]+[,.;:]?(?!\S)")
# The fewest different such words of a figure that is read as text. Drawings
# in the 9 PDFs of ../shared/corpus/real hold at most 21 (plots at most 11),
# worked examples 39 to 396.
MIN_LOWERCASE_WORDS = 30


def drawn_characters(page: pdfium.PdfPage, textpage: pdfium.PdfTextPage, text: str) -> set[int]:
    """Indices (in `textpage`, whose characters are `text`) of the characters drawn
    inside figures."""
    forms = [
        obj.raw for obj in page.get_objects(max_depth=0) if obj.type == pdfium_c.FPDF_PAGEOBJ_FORM
    ]
    if not forms:
        return set()
    owner = {text: k for k, form in enumerate(forms) for text in _text_objects(form)}
    raw = textpage.raw
    chars: dict[int, list[int]] = {}
    last = None
    for i, ch in enumerate(text):
        handle = pdfium_c.FPDFText_GetTextObject(raw, i)
        form = owner.get(_address(handle))
        if form is None and last is not None and not handle and ch.isspace():
            form = last  # a space or line break pdfium inserted between a figure's words
        if form is not None:
            chars.setdefault(form, []).append(i)
        last = form
    drawn: set[int] = set()
    for indices in chars.values():
        words = LOWERCASE_WORD.findall("".join(text[i] for i in indices))
        if len(set(words)) < MIN_LOWERCASE_WORDS:
            drawn.update(indices)
    return drawn


def _text_objects(form) -> list[int]:
    """Addresses of the text objects inside a form, nested forms included."""
    found = []
    for i in range(pdfium_c.FPDFFormObj_CountObjects(form)):
        obj = pdfium_c.FPDFFormObj_GetObject(form, i)
        kind = pdfium_c.FPDFPageObj_GetType(obj)
        if kind == pdfium_c.FPDF_PAGEOBJ_TEXT:
            found.append(_address(obj))
        elif kind == pdfium_c.FPDF_PAGEOBJ_FORM:
            found.extend(_text_objects(obj))
    return found


def _address(handle) -> int | None:
    return ctypes.cast(handle, ctypes.c_void_p).value
