"""Split an article into sentences and into overlapping chunks of sentences.

Long articles are sent to the model in chunks.  Chunks hold whole sentences
where possible so that a quote is never cut in half, and consecutive chunks
overlap so that a quote straddling a boundary is still complete in one of
them.  All offsets are Python ``str`` indices into the article.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["Chunk", "make_chunks", "split_sentences"]


@dataclass(frozen=True)
class Chunk:
    """A slice of the article: ``text == article[start:end]``."""

    start: int
    end: int
    text: str


# Abbreviations after which a full stop does not end a sentence (case matters:
# "no." at the end of a sentence is not "No. 5").
_ABBREVIATIONS = frozenset(
    [
        *("Mr.", "Mrs.", "Ms.", "Dr.", "Prof.", "Sen.", "Rep.", "Gov.", "Gen.", "Col."),
        *("Lt.", "Sgt.", "St.", "Jr.", "Sr.", "U.S.", "U.K.", "U.N.", "e.g.", "i.e."),
        *("vs.", "No.", "Jan.", "Feb.", "Aug.", "Sept.", "Oct.", "Nov.", "Dec."),
    ]
)
# Closing double/single curly quotes, straight quotes, brackets.
_CLOSERS = "\u201d\"\u2019')]"
# Straight, curly and low-9 opening quotes, left guillemet.
_OPENING_QUOTES = frozenset("\"'\u201c\u2018\u201e\u201a\u00ab")
_OPENERS = "([\"'\u201c\u2018\u201e\u201a\u00ab"

# Latin-style terminator: needs whitespace and a capital (checked in code) after it.
_TERMINATOR = re.compile(r"[.!?\u2026]+[" + re.escape(_CLOSERS) + r"]*(?=\s)")
# CJK full-width terminators end a sentence outright: those scripts put no
# space after them and have no capitals to look for.
_CJK_TERMINATOR = re.compile("[\u3002\uff01\uff1f]+[\u300d\u300f\u201d\u2019\uff09)]*")
_BLANK_LINE = re.compile(r"\n\s*\n")
_WHITESPACE = re.compile(r"\s+")
_INITIALS = re.compile(r"(?:[^\W\d_]\.)*[^\W\d_]")
_MAX_ABBREVIATION = 12


def _starts_sentence(c: str) -> bool:
    if c.isupper() or c.isdigit() or c in _OPENING_QUOTES:
        return True
    # Scripts without case (Arabic, Hebrew, Devanagari, ...) cannot signal a
    # new sentence with a capital, so any letter will do.
    return unicodedata.category(c) == "Lo"


def _is_abbreviation(text: str, dot: int) -> bool:
    """True if the full stop at ``text[dot]`` closes an abbreviation or initial."""
    k = dot
    while k > 0 and dot - k <= _MAX_ABBREVIATION and not text[k - 1].isspace():
        k -= 1
    if k > 0 and not text[k - 1].isspace():
        return False  # longer than any abbreviation
    word = text[k:dot].lstrip(_OPENERS)
    if word + "." in _ABBREVIATIONS:
        return True
    # "J. Smith", "J.R.R. Tolkien": single capital letters with full stops.
    return _INITIALS.fullmatch(word) is not None and word.replace(".", "").isupper()


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Return ``(start, end)`` of each sentence, in order.

    Spans exclude surrounding whitespace, never overlap, and together cover
    every non-whitespace character.  A sentence ends after ``. ! ? …``
    (optionally followed by closing quotes/brackets) when whitespace and then
    a capital, digit or opening quote follow (possibly after an opening
    bracket), except after a known abbreviation or an initial; after CJK full
    stops (``\\u3002 \\uff01 \\uff1f``); and at a blank line.

    >>> t = "Mr. J. Smith left. \u201cWhy?\u201d he asked.\\n\\nThen it rained."
    >>> [t[s:e] for s, e in split_sentences(t)]
    ['Mr. J. Smith left.', '\u201cWhy?\u201d he asked.', 'Then it rained.']
    """
    cuts: set[int] = set()
    for m in _BLANK_LINE.finditer(text):
        cuts.add(m.start())
    for m in _TERMINATOR.finditer(text):
        ws = _WHITESPACE.match(text, m.end())
        if ws is None:
            continue
        # "(Reporting by ...)": look past opening brackets for the capital.
        nxt = ws.end()
        while nxt < len(text) and text[nxt] in "([":
            nxt += 1
        if nxt >= len(text) or not _starts_sentence(text[nxt]):
            continue
        punct = m.group().rstrip(_CLOSERS)
        if punct == "." and _is_abbreviation(text, m.start()):
            continue
        cuts.add(m.end())
    for m in _CJK_TERMINATOR.finditer(text):
        cuts.add(m.end())

    spans: list[tuple[int, int]] = []
    prev = 0
    for cut in [*sorted(cuts), len(text)]:
        start, end = prev, cut
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start < end:
            spans.append((start, end))
        prev = cut
    return spans


def _split_long(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Cut ``[start, end)`` into pieces of at most ``max_chars`` at whitespace."""
    pieces: list[tuple[int, int]] = []
    while end - start > max_chars:
        limit = start + max_chars
        cut = -1
        for k in range(limit, start, -1):
            if text[k].isspace():
                cut = k
                break
        if cut == -1:
            cut = limit
            # Keep a combining mark with its base character.
            while cut > start + 1 and unicodedata.category(text[cut]).startswith("M"):
                cut -= 1
            nxt = cut
        else:
            nxt = cut
            while nxt < end and text[nxt].isspace():
                nxt += 1
            while text[cut - 1].isspace():
                cut -= 1
        pieces.append((start, cut))
        start = nxt
    if start < end:
        pieces.append((start, end))
    return pieces


def make_chunks(text: str, *, max_chars: int, overlap_chars: int) -> list[Chunk]:
    """Pack whole sentences into chunks of at most ``max_chars`` characters.

    A text that fits is one chunk ``[0, len(text))``.  Otherwise each chunk
    is trimmed of surrounding whitespace, and the next chunk starts at the
    first sentence beginning at or after ``previous end - overlap_chars``
    (but always after the previous chunk's start).  A sentence longer than
    ``max_chars`` is cut at its last whitespace before the limit, or hard
    cut if it has none.  A long text of only whitespace gives no chunks.

    >>> t = "One two. Three four. Five six."
    >>> [c.text for c in make_chunks(t, max_chars=21, overlap_chars=12)]
    ['One two. Three four.', 'Three four. Five six.']
    """
    if max_chars < 1:
        raise ValueError(f"max_chars must be at least 1, got {max_chars}")
    if overlap_chars < 0:
        raise ValueError(f"overlap_chars must not be negative, got {overlap_chars}")
    if len(text) <= max_chars:
        return [Chunk(0, len(text), text)]

    units: list[tuple[int, int]] = []
    for s, e in split_sentences(text):
        units.extend(_split_long(text, s, e, max_chars))

    chunks: list[Chunk] = []
    a = 0
    while a < len(units):
        start = units[a][0]
        b = a + 1
        while b < len(units) and units[b][1] - start <= max_chars:
            b += 1
        end = units[b - 1][1]
        chunks.append(Chunk(start, end, text[start:end]))
        if b == len(units):
            break
        # units[b] starts after `end`, so the next start is at most b: no gap.
        nxt = a + 1
        while units[nxt][0] < end - overlap_chars:
            nxt += 1
        a = nxt
    return chunks
