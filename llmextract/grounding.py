"""Align text quoted by a model to character offsets in the article.

A model asked to quote the article rarely copies it byte for byte: it
straightens curly quotes, changes dashes, drops a line break or a capital,
or paraphrases a word.  :func:`align_span` finds the passage anyway and
reports how sure it is, in three steps of decreasing strictness:

``exact``
    ``needle.strip()`` occurs verbatim; ``text[start:end] == needle.strip()``.
``normalised``
    It occurs once both sides are normalised (see :func:`normalise`).  If the
    needle is wrapped in quotation marks, the version *with* the marks is
    tried first and the span then includes the article's marks; if that is
    not found, the marks are dropped and only the words are aligned.
``fuzzy``
    ``rapidfuzz.fuzz.partial_ratio_alignment`` scores at least
    ``fuzzy_threshold`` (that score is reported); the span's ends are then
    moved to the nearby word edges that best fit the needle, surrounding
    punctuation is dropped, and no word is split.

Offsets are always Python ``str`` indices into the original text.  Nothing
here raises on any ``str`` input; no match gives ``None``.

The normalised view of an article is cached (a few articles), because a
pipeline aligns many quotes against the same article.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz

__all__ = [
    "FUZZY_THRESHOLD",
    "Alignment",
    "AlignmentStatus",
    "align_span",
    "normalise",
    "occurs",
]

AlignmentStatus = Literal["exact", "normalised", "fuzzy"]

#: Minimum rapidfuzz ``partial_ratio`` score (0-100) for a fuzzy alignment.
#: 90 accepts one changed word in a sentence-long quote but rejects a
#: sentence the article does not contain.
FUZZY_THRESHOLD: float = 90.0

#: Needles shorter than this (after normalisation) are never aligned fuzzily:
#: a short phrase with one edit matches too many unrelated places.
MIN_FUZZY_CHARS = 12

#: Above this article length, a fuzzy search with ``near`` only looks at
#: ``near ± FUZZY_WINDOW_RADIUS`` (plus the needle's length).
FUZZY_WINDOW_TRIGGER = 20_000
FUZZY_WINDOW_RADIUS = 10_000

# Word snapping stops after this many characters so a fuzzy span cannot grow
# through a huge unbroken token (base64, URLs, unspaced scripts).
_MAX_SNAP = 40

# Curly, low-9 and reversed double quotes, double prime, guillemets.
_DOUBLE_QUOTES = "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"
# Curly, low-9 and reversed single quotes, prime, single guillemets.
_SINGLE_QUOTES = "\u2018\u2019\u201a\u201b\u2032\u2039\u203a"
# Hyphen, non-breaking hyphen, figure/en/em dash, horizontal bar, minus sign.
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
_EXPLICIT: dict[str, str] = {
    **dict.fromkeys(_DOUBLE_QUOTES, '"'),
    **dict.fromkeys(_SINGLE_QUOTES, "'"),
    **dict.fromkeys(_DASHES, "-"),
}
# Invisible characters that only affect layout; dropped on both sides.
# ZWJ/ZWNJ are kept: they change meaning in some scripts and in emoji.
_DELETED = frozenset("\u200b\u2060\ufeff\u00ad")
# After normalisation every quotation mark is one of these.
_MARKS = "\"'"


@dataclass(frozen=True)
class Alignment:
    """Where a quoted passage sits in the article.

    ``start``/``end`` are offsets into the original text; ``score`` is 100.0
    for exact and normalised matches and the rapidfuzz score for fuzzy ones.
    """

    start: int
    end: int
    status: AlignmentStatus
    score: float


# --------------------------------------------------------------------------
# Normalisation with an offset map
# --------------------------------------------------------------------------


def _one_step(c: str) -> str:
    # Explicit mapping first: NFKD would turn ″ into two primes.
    if c in _EXPLICIT:
        return _EXPLICIT[c]
    decomposed = unicodedata.normalize("NFKD", c).casefold()
    return "".join(_EXPLICIT.get(ch, ch) for ch in decomposed)


@functools.lru_cache(maxsize=65536)
def _char_rep(c: str) -> str:
    """Normalised form of one character: ``""`` (dropped), ``" "`` or text.

    Compatibility decomposition (NFKD) makes composed and decomposed accents,
    ligatures, full-width forms and ``…``/``...`` compare equal; casefold
    ignores case.  The result is iterated to a fixed point so that
    ``normalise`` is idempotent.
    """
    if c in _DELETED:
        return ""
    if c.isspace():
        return " "
    rep = _one_step(c)
    for _ in range(4):
        nxt = "".join(_one_step(ch) for ch in rep)
        if nxt == rep:
            break
        rep = nxt
    else:
        return c
    # A non-space character must not turn into whitespace (e.g. NFKD of the
    # spacing diaeresis is " \u0308"): that would break run collapsing.
    if not rep or any(ch.isspace() or ch in _DELETED for ch in rep):
        return c
    return rep


@dataclass(frozen=True)
class _View:
    """Normalised text plus a piecewise map back to the original.

    Piece ``k`` covers normalised offsets ``[out_starts[k], out_ends[k])``.
    An identity piece maps them one to one onto ``src_starts[k] + d``; any
    other piece maps every output char to the whole source range
    ``[src_starts[k], src_ends[k])`` (a collapsed whitespace run, or one
    character that expanded to several, like ``ß`` -> ``ss``).
    """

    text: str
    out_starts: list[int]
    out_ends: list[int]
    src_starts: list[int]
    src_ends: list[int]
    identity: list[bool]

    def src_span(self, i: int) -> tuple[int, int]:
        """Original ``(start, end)`` of normalised character ``i``."""
        k = bisect_right(self.out_starts, i) - 1
        if self.identity[k]:
            s = self.src_starts[k] + (i - self.out_starts[k])
            return s, s + 1
        return self.src_starts[k], self.src_ends[k]

    def out_index(self, src: int) -> int:
        """Normalised offset corresponding (roughly) to original offset ``src``."""
        k = bisect_right(self.src_starts, src) - 1
        if k < 0:
            return 0
        if self.identity[k]:
            return min(self.out_starts[k] + (src - self.src_starts[k]), self.out_ends[k])
        return self.out_starts[k] if src == self.src_starts[k] else self.out_ends[k]

    def splits_char(self, i: int, j: int) -> bool:
        """True if normalised ``[i, j)`` starts or ends inside one source char."""
        n = len(self.text)
        if 0 < i < n and self.src_span(i - 1) == self.src_span(i):
            return True
        return 0 < j < n and self.src_span(j - 1) == self.src_span(j)


def _build_view(text: str) -> _View:
    chars = set(text)
    table: dict[int, str] = {}
    spacey: list[str] = []  # whitespace or dropped: may form a run
    special: list[str] = []  # not one-to-one: dropped or expanding
    for c in chars:
        rep = _char_rep(c)
        if rep == " " or rep == "":
            spacey.append(c)
        if len(rep) != 1:
            special.append(c)
        elif rep != c:
            table[ord(c)] = rep

    out_starts: list[int] = []
    out_ends: list[int] = []
    src_starts: list[int] = []
    src_ends: list[int] = []
    identity: list[bool] = []
    parts: list[str] = []
    o = 0

    def add(piece: str, s: int, e: int, ident: bool) -> None:
        nonlocal o
        parts.append(piece)
        out_starts.append(o)
        out_ends.append(o + len(piece))
        src_starts.append(s)
        src_ends.append(e)
        identity.append(ident)
        o += len(piece)

    alternatives = []
    if spacey:
        # A single whitespace char is one-to-one (translated to " "); only
        # runs need collapsing.
        alternatives.append("[" + "".join(map(re.escape, sorted(spacey))) + "]{2,}")
    if special:
        alternatives.append("[" + "".join(map(re.escape, sorted(special))) + "]")
    pos = 0
    if alternatives:
        for m in re.finditer("|".join(alternatives), text):
            a, b = m.span()
            if a > pos:
                add(text[pos:a], pos, a, True)
            if b - a == 1:
                rep = _char_rep(text[a])
            else:
                rep = " " if any(_char_rep(ch) == " " for ch in m.group()) else ""
            if rep:
                add(rep, a, b, False)
            pos = b
    if pos < len(text) or not parts:
        add(text[pos:], pos, len(text), True)
    # Replacement strings are fixed points of _char_rep, so translating them
    # again is harmless; only one-to-one characters change here.
    normalised = "".join(parts).translate(table)
    return _View(normalised, out_starts, out_ends, src_starts, src_ends, identity)


@functools.lru_cache(maxsize=4)
def _cached_view(text: str) -> _View:
    return _build_view(text)


def normalise(s: str) -> str:
    """Return the comparison form of ``s`` used by :func:`align_span`.

    Curly quotes become straight, dashes become ``-``, whitespace runs
    (including non-breaking and Unicode spaces, ``\\r\\n``) become one space,
    layout-only characters (zero-width space, soft hyphen, BOM) are dropped,
    and each character is NFKD-decomposed and casefolded.  Leading and
    trailing spaces are removed.

    >>> normalise("  \u201cWe\u2019ll   WIN\u201d \u2014 Stra\u00dfe ")
    '"we\\'ll win" - strasse'
    """
    return _build_view(s).text.strip(" ")


# --------------------------------------------------------------------------
# Searching
# --------------------------------------------------------------------------


def _find_nearest(
    hay: str, sub: str, near: int | None, ok: Callable[[int], bool] | None = None
) -> int | None:
    """Start of an occurrence of ``sub`` accepted by ``ok``: nearest to ``near``
    (ties go to the earlier one), or the first when ``near`` is None."""
    n = len(sub)
    if near is None:
        i = hay.find(sub)
        while i != -1 and ok is not None and not ok(i):
            i = hay.find(sub, i + 1)
        return None if i == -1 else i
    fwd = hay.find(sub, near)
    while fwd != -1 and ok is not None and not ok(fwd):
        fwd = hay.find(sub, fwd + 1)
    # rfind(sub, 0, end) only reports occurrences ending by `end`, so this
    # looks at starts strictly before `near`.
    bwd = hay.rfind(sub, 0, near + n - 1) if near > 0 else -1
    while bwd != -1 and ok is not None and not ok(bwd):
        bwd = hay.rfind(sub, 0, bwd + n - 1) if bwd > 0 else -1
    if fwd == -1:
        return None if bwd == -1 else bwd
    if bwd == -1:
        return fwd
    return bwd if near - bwd <= fwd - near else fwd


def _is_word_char(c: str) -> bool:
    # Wide (CJK) characters are words on their own: those scripts have no
    # spaces, so snapping across them would swallow whole sentences.
    if unicodedata.east_asian_width(c) in ("W", "F"):
        return False
    return c.isalnum() or c == "_" or unicodedata.category(c).startswith("M")


def _is_mark(c: str) -> bool:
    return unicodedata.category(c).startswith("M")


def _is_punct(c: str) -> bool:
    return unicodedata.category(c).startswith("P")


def _tidy_span(text: str, start: int, end: int, needle: str) -> tuple[int, int]:
    """Trim whitespace, then widen ``[start, end)`` so no word is split.

    The fuzzy window has the needle's length, so it often takes in a stray
    comma or quote mark next to the passage; an edge punctuation mark is
    dropped unless the needle has one at that edge too.
    """
    keep_left = bool(needle) and _is_punct(needle[0])
    keep_right = bool(needle) and _is_punct(needle[-1])
    while start < end and (text[start].isspace() or (not keep_left and _is_punct(text[start]))):
        start += 1
    while end > start and (
        text[end - 1].isspace() or (not keep_right and _is_punct(text[end - 1]))
    ):
        end -= 1
    if start >= end:
        return start, end
    limit = start - _MAX_SNAP
    while start > max(limit, 0) and _is_word_char(text[start - 1]) and _is_word_char(text[start]):
        start -= 1
    limit = end + _MAX_SNAP
    while end < min(limit, len(text)) and _is_word_char(text[end - 1]) and _is_word_char(text[end]):
        end += 1
    # Never separate a base character from its combining marks.
    while start > 0 and _is_mark(text[start]):
        start -= 1
    while end < len(text) and _is_mark(text[end]):
        end += 1
    return start, end


def _normalised_match(view: _View, sub: str, near_out: int | None) -> tuple[int, int] | None:
    if not sub:
        return None
    i = _find_nearest(view.text, sub, near_out, lambda k: not view.splits_char(k, k + len(sub)))
    if i is None:
        return None
    return view.src_span(i)[0], view.src_span(i + len(sub) - 1)[1]


def _refine(window: str, core: str, ds: int, de: int) -> tuple[int, int]:
    """Move the ends of ``window[ds:de]`` to nearby word edges that fit best.

    partial_ratio compares windows of the needle's own length, so when the
    model's wording is longer or shorter than the article's the window is
    shifted by a word or so.  Trying word edges close to each end and keeping
    the pair with the best plain ratio puts the span on the right words.
    """
    slack = min(40, max(8, len(core) // 4))
    lo, hi = max(0, ds - slack), min(len(window), de + slack)
    starts = {ds} | {
        p
        for p in range(lo, min(ds + slack, de))
        if window[p] != " " and (p == 0 or window[p - 1] == " ")
    }
    ends = {de} | {
        q
        for q in range(max(de - slack, ds + 1), hi + 1)
        if window[q - 1] != " " and (q == len(window) or window[q] == " ")
    }
    best = (ds, de)
    best_key = (fuzz.ratio(core, window[ds:de]), -abs((de - ds) - len(core)))
    for a in starts:
        for b in ends:
            if b <= a:
                continue
            key = (fuzz.ratio(core, window[a:b]), -abs((b - a) - len(core)))
            if key > best_key:
                best, best_key = (a, b), key
    return best


def _fuzzy_match(
    text: str, view: _View, core: str, near: int | None, threshold: float
) -> Alignment | None:
    lo, hi = 0, len(view.text)
    if near is not None and len(text) > FUZZY_WINDOW_TRIGGER:
        radius = FUZZY_WINDOW_RADIUS + len(core)
        lo = view.out_index(max(0, near - radius))
        hi = view.out_index(min(len(text), near + radius))
    window = view.text[lo:hi]
    if not window.strip(" "):
        return None
    if len(core) >= len(window):
        # partial_ratio would align a piece of the needle to the whole
        # window; demand that the window as a whole resembles the needle.
        score = fuzz.ratio(core, window)
        ds, de = 0, len(window)
    else:
        res = fuzz.partial_ratio_alignment(core, window, score_cutoff=threshold)
        if res is None:
            return None
        score, ds, de = res.score, res.dest_start, res.dest_end
        if de > ds:
            ds, de = _refine(window, core, ds, de)
    if score < threshold or de <= ds:
        return None
    start = view.src_span(lo + ds)[0]
    end = view.src_span(lo + de - 1)[1]
    start, end = _tidy_span(text, start, end, core)
    if start >= end:
        return None
    return Alignment(start, end, "fuzzy", float(score))


def align_span(
    text: str,
    needle: str,
    *,
    near: int | None = None,
    fuzzy_threshold: float = FUZZY_THRESHOLD,
) -> Alignment | None:
    """Locate the passage of ``text`` that ``needle`` quotes.

    ``near`` (an offset into ``text``) breaks ties between repeated
    occurrences and, for long texts, bounds the fuzzy search.  Returns
    ``None`` for an empty needle or when nothing is close enough.

    >>> t = "He said: \u201cWe will  win.\u201d"
    >>> align_span(t, '"we will win."')
    Alignment(start=9, end=24, status='normalised', score=100.0)
    >>> t[9:24]
    '\u201cWe will  win.\u201d'
    """
    stripped = needle.strip()
    if not stripped:
        return None
    if near is not None:
        near = max(0, min(int(near), len(text)))

    i = _find_nearest(text, stripped, near)
    if i is not None:
        return Alignment(i, i + len(stripped), "exact", 100.0)

    view = _cached_view(text)
    near_out = None if near is None else view.out_index(near)
    with_marks = normalise(needle)
    core = with_marks.strip(_MARKS + " ")
    for candidate in (with_marks, core) if core != with_marks else (core,):
        span = _normalised_match(view, candidate, near_out)
        if span is not None:
            return Alignment(span[0], span[1], "normalised", 100.0)

    if len(core) < MIN_FUZZY_CHARS:
        return None
    return _fuzzy_match(text, view, core, near, fuzzy_threshold)


def occurs(text: str, needle: str) -> bool:
    """True if ``needle`` appears in ``text`` after normalisation, as whole words.

    Meant for accepting a free-text value (a speaker's name) only when the
    article mentions it.  Word boundaries are required at the needle's edges
    so that ``"Ann"`` does not occur in ``"Annual"``.

    >>> occurs("Mr. O\u2019Brien said", "o'brien")
    True
    >>> occurs("The annual report", "Ann")
    False
    """
    sub = normalise(needle)
    if not sub:
        return False
    view = _cached_view(text)
    hay = view.text
    n = len(sub)

    def ok(i: int) -> bool:
        if view.splits_char(i, i + n):
            return False
        if i > 0 and _is_word_char(hay[i - 1]) and _is_word_char(hay[i]):
            return False
        j = i + n
        return not (j < len(hay) and _is_word_char(hay[j - 1]) and _is_word_char(hay[j]))

    return _find_nearest(hay, sub, None, ok) is not None
