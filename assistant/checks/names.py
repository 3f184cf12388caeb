"""Does what the library found know the names the question asks about?

A question about a paper the library lacks still retrieves the nearest
passages, and the reranker scores a near miss (Self-RAG asked of a library
that holds RAG) as high as a question the library answers
(docs/answers.md#unknown-names). What tells them apart is lexical: the
question names something, an acronym or a model's name (KTO, MemGPT,
Self-RAG, Zephyr-7B), that no paper found for it ever mentions.

A name here is a Latin-script word with two capitals or letters and digits
together, or a capitalised word and a version after a space (Llama 3) where
the papers found number that word; sizes and units (540B, 2D, 128k) are not
names. Names are matched on word boundaries, ignoring case, width (ＧＰＴ-４),
hyphens and spaces ("FlashAttention", "Flash-Attention"), plurals ("LLMs")
and suffixes ("CO2e"); an acronym also matches the words it abbreviates in
the passages found ("byte pair encoding" for BPE).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence

import regex

from paperlens.index.lexical import fold

# A word and its hyphen- or dot-joined parts; an apostrophe ends it ("OpenAI's").
CANDIDATE = regex.compile(r"[\p{Latin}\p{Nd}]+(?:[-.][\p{Latin}\p{Nd}]+)*")
TOKEN = regex.compile(r"[\p{Latin}\p{Nd}]+")
PIECE = regex.compile(r"([-.]?)([\p{Latin}\p{Nd}]+)")
FAMILY = regex.compile(r"(\p{L}+)\d")  # "qwen" of qwen2: a name written with versions
MEASURE = regex.compile(r"\d[\d.]*[a-z]{0,2}|\d+x\d+[a-z]?", regex.IGNORECASE)
# Words a question attaches to a name in languages that join compounds with a
# hyphen ("OPT-Modelle", "ResNet-Paper"): the name is the other part.
GENERIC = frozenset(["paper", "papers", "model", "models", "method", "methods"])
# Names that say who wrote a paper, where it appeared or what field it is in,
# which a paper's passages (a digest's entry most of all) often leave out: not checked.
AUTHORS = frozenset(
    ["openai", "deepmind", "nvidia", "ibm", "mit", "cmu", "ucla", "kaist", "fair", "baai"]
    + ["huggingface", "allenai", "eleutherai"]
)
VENUES = frozenset(
    ["arxiv", "neurips", "nips", "icml", "iclr", "acl", "emnlp", "naacl", "cvpr", "iccv", "eccv"]
    + ["aaai", "ijcai", "coling", "kdd", "sigir", "tmlr", "jmlr"]
)
FIELDS = frozenset(
    ["ai", "ml", "nlp", "cv", "rl", "qa", "llm", "gpu", "tpu", "cpu", "api", "sota", "cnn", "rnn"]
)
UNCHECKED = AUTHORS | VENUES | FIELDS
# A capitalised word and a version after a space ("Llama 3", "PaLM 2", "Gemini 1.5"):
# a name where the papers found write that word before numbers (a family with
# versions), else an ordinary word ("Table 3" in a digest without tables).
SPACED_VERSION = regex.compile(
    r"(?<![\p{L}\p{N}.-])(\p{Lu}[\p{Latin}\p{Nd}]*) (\d{1,2}(?:\.\d{1,2})?)"
    r"(?![\p{Latin}\p{N}%-]|[.,]\d)"  # not a count ("1-shot", "20%") or a longer number
)
DOTTED = regex.compile(r"(\p{Latin}+)[ -]?(\d+)\.(\d+)")
# A name and a model size after a hyphen ("OPT-30B", "LLaMA-13B"): papers list their
# sizes in tables, a row's "30B" under the family's name, and seldom write them joined.
SIZED = regex.compile(r"(.+?)-(\d+(?:\.\d+)?[bmkt])", regex.IGNORECASE)
RELEASE_WINDOW = 6  # tokens after a name where its dotted version may be listed
SHOUTED_WORDS = 3  # a question of this many Latin words, all in capitals, is shouted...
LATIN_SHARE = 0.8  # ...when they hold this share of its letters
MOST_NAMES = 12  # checked per question: a question names a few; a pasted list costs time
LONGEST_NAME = 4  # tokens a name may be spelled over in a passage ("Flash Attention 2")


def named_terms(question: str) -> list[str]:
    """The names in `question`, in order, each once."""
    question = unicodedata.normalize("NFKC", question)
    found = [m.group(0) for m in CANDIDATE.finditer(question)]
    if _shouted(question):
        found = [t for t in found if _has_digit(t)]  # capitals say nothing there
    return list(dict.fromkeys(t for t in found if any(_is_name(u) for u in _units(t))))


def unknown_names(question: str, paper_texts: Iterable[str], found: Sequence[str]) -> list[str]:
    """The question's names that neither the papers' texts nor the passages found mention.

    `paper_texts`: the titles and passages of the papers found (where a name
    is looked for); `found`: the passages that would be cited (where an
    acronym may also be spelled out)."""
    question = unicodedata.normalize("NFKC", question)  # full-width letters and digits
    terms = named_terms(question)
    versions = [m.group(0) for m in SPACED_VERSION.finditer(question)]
    if not terms and not versions:
        return []
    cited = [t for text in found for t in TOKEN.findall(fold(text))]
    known = _Vocabulary([t for text in paper_texts for t in TOKEN.findall(fold(text))] + cited)
    terms += [v for v in versions if v.split()[0].casefold() in known.numbered]
    checked = list(dict.fromkeys(terms))[:MOST_NAMES]
    return [term for term in checked if not _mentioned(term, known, cited)]


def lost_names(source: str, translation: str) -> list[str]:
    """The names of `source` that its `translation` no longer writes ("mAP" turned
    into "mapa"); a plural, a hyphen or a space may change ("GPUs" as GPU,
    "ResNet-101" as "ResNet 101")."""
    kept = _Vocabulary(TOKEN.findall(fold(translation)))
    return [n for n in named_terms(source) if not kept.has(_joined(n))]


def _mentioned(term: str, known: _Vocabulary, cited: list[str]) -> bool:
    sized = SIZED.fullmatch(term)
    if sized and sized[2].casefold() in known.words and known.has(_joined(sized[1])):
        return True  # OPT-30B: OPT, and a size 30B
    units = _units(term)
    if known.has(_joined(term)) or known.has_release(term):
        return True
    if _name_then_words(units, known):
        return True
    names = [u for u in units if _is_name(u)]
    others = [u.casefold() for u in units if u not in names and not MEASURE.fullmatch(u)]
    # "OPT-Modelle": the name, and a word of the question's language the papers never use.
    return all(_name_known(n, known, cited) for n in names) and all(
        _unused_word(o, known) for o in others
    )


def _name_then_words(units: list[str], known: _Vocabulary) -> bool:
    """A name the papers write whole, then words (no names) of the question's language
    they never use: "R-CNN-Klassifikators" (German for R-CNN's classifier) mentions
    R-CNN, though its "R" alone is a word of the papers; "OPT-IML" is not OPT."""
    for k in range(len(units) - 1, 0, -1):
        head, tail = units[:k], units[k:]
        if (
            any(_is_name(u) for u in head)
            and known.has("".join(head).casefold())
            and all(_foreign_word(t, known) for t in tail)
        ):
            return True
    return False


def _foreign_word(unit: str, known: _Vocabulary) -> bool:
    """A word (not a name, not a measure) the papers never use."""
    if _is_name(unit) or MEASURE.fullmatch(unit):
        return False
    return _unused_word(unit.casefold(), known)


def _unused_word(folded: str, known: _Vocabulary) -> bool:
    """A word of the question's language, not the papers' ("modelle"); generic words
    ("model") count as such."""
    return folded in GENERIC or folded not in known.words


def _name_known(name: str, known: _Vocabulary, cited: list[str]) -> bool:
    folded = name.casefold()
    if folded in UNCHECKED or folded.removesuffix("s") in UNCHECKED or known.has(folded):
        return True
    return name.isupper() and _spelled_out(folded, cited)


class _Vocabulary:
    """Folded tokens of the papers' texts."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.words = set(tokens)
        self.numbered = {a for a, b in zip(tokens, tokens[1:], strict=False) if b[0].isdigit()}
        self.numbered |= {m.group(1) for w in self.words if (m := FAMILY.match(w))}
        self._positions: dict[str, list[int]] | None = None

    def has(self, form: str) -> bool:
        forms = {form, form + "s", form + "es"}
        if form.endswith("s") and len(form) > 3:
            forms.add(form[:-1])  # "LLMs" of "LLM"
        if forms & self.words or (_has_digit(form) and self._inside_a_word(form)):
            return True
        return any(self._spelled_apart(f) for f in forms)

    def has_release(self, term: str) -> bool:
        """A dotted version a few words after its name, as lists write them: "Gemini
        1.0 Pro and 1.5 Flash" mentions Gemini 1.5. (A lone number nearby does not
        count: tables put numbers after every name.)"""
        dotted = DOTTED.fullmatch(term)
        if not dotted:
            return False
        name, major, minor = dotted.group(1).casefold(), dotted.group(2), dotted.group(3)
        tokens = self.tokens
        return any(
            tokens[j : j + 2] == [major, minor]
            for i, token in enumerate(tokens)
            if token == name
            for j in range(i + 1, min(i + RELEASE_WINDOW, len(tokens)))
        )

    def _inside_a_word(self, form: str) -> bool:
        """A name with digits inside a word ("tco2e" for co2, "yolov8n" for yolov8):
        rarely by chance."""
        return any(form in w for w in self.words)

    def _spelled_apart(self, form: str) -> bool:
        """`form` as a run of tokens ("flash", "attention" for flashattention)."""
        tokens, starts = self.tokens, self._starts()
        for end in range(1, len(form)):
            for i in starts.get(form[:end], ()):
                run = tokens[i]
                for nxt in tokens[i + 1 : i + LONGEST_NAME]:
                    run += nxt
                    if run == form:
                        return True
                    if not form.startswith(run):
                        break
        return False

    def _starts(self) -> dict[str, list[int]]:
        """Where each token occurs (built on first use: most names are found whole)."""
        if self._positions is None:
            self._positions = {}
            for i, token in enumerate(self.tokens):
                self._positions.setdefault(token, []).append(i)
        return self._positions


def _spelled_out(unit: str, cited: list[str]) -> bool:
    """An acronym (bpe) whose words (byte pair encoding) follow each other in `cited`."""
    n = len(unit)
    if not unit.isalpha() or not 2 <= n <= 6:
        return False
    return any("".join(w[0] for w in cited[i : i + n]) == unit for i in range(len(cited) - n + 1))


def _joined(term: str) -> str:
    return "".join(_units(term)).casefold()


def _units(term: str) -> list[str]:
    """The term's parts, a version joined to the name before it ("phi-1": phi1,
    "Llama 3.2": llama32, "Qwen2.5-Coder": qwen25, coder)."""
    units: list[str] = []
    for piece in PIECE.finditer(term):
        separator, part = piece.group(1), piece.group(2)
        if units and part[0].isdigit() and (units[-1][-1].isalpha() or separator == "."):
            units[-1] += part
        else:
            units.append(part)
    return units


def _is_name(unit: str) -> bool:
    if MEASURE.fullmatch(unit):
        return False
    capitals = sum(c.isupper() for c in unit)
    return capitals >= 2 or (any(c.isalpha() for c in unit) and any(c.isdigit() for c in unit))


def _shouted(question: str) -> bool:
    """Written in capitals: words of Latin letters, all in capitals, make up the question
    (not the acronyms of a Japanese or Korean question)."""
    tokens = TOKEN.findall(question)
    words = [w for w in tokens if sum(c.isalpha() for c in w) > 1]
    latin_letters = sum(c.isalpha() for w in tokens for c in w)
    return (
        len(words) >= SHOUTED_WORDS
        and all(w.isupper() for w in words)
        and latin_letters >= LATIN_SHARE * sum(c.isalpha() for c in question)
    )


def _has_digit(text: str) -> bool:
    return any(c.isdigit() for c in text)
