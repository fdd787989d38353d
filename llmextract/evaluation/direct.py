"""The DIRECT subset of quotes (``quotes.content_direct``): which contents are in it.

Pure: no I/O, no client.
"""

from __future__ import annotations

from bisect import bisect_left
from functools import lru_cache

from llmextract.quotation import QUOTE_MARKS, quotations
from llmextract.schemas import Span

__all__ = ["is_direct"]


def is_direct(span: Span, text: str) -> bool:
    """Whether a quote content is in the DIRECT subset.

    It is when it contains a quotation mark (``"``, ``\u201c``, ``\u201d`` or ``\u201e``),
    or starts or ends inside a quotation as :mod:`llmextract.quotation` finds them (the rule
    the candidates and the gold converters use). The same test applies to gold and predicted
    contents.

    >>> text = 'He said "we will win" and left. Then: no.'
    >>> is_direct(Span(text="we will win", start=9, end=20), text)
    True
    >>> is_direct(Span(text='"we will win"', start=8, end=21), text)
    True
    >>> is_direct(Span(text="Then: no.", start=32, end=41), text)
    False
    """
    if not QUOTE_MARKS.isdisjoint(span.text):
        return True
    firsts, ends = _quoted_ranges(text)
    last = max(span.start, span.end - 1)
    return _quoted(text, span.start, firsts, ends) or _quoted(text, last, firsts, ends)


@lru_cache(maxsize=32)
def _quoted_ranges(text: str) -> tuple[list[int], list[int]]:
    """The first and past-the-last quoted positions of ``text``'s outermost quotations,
    merged where they touch or overlap and sorted: what
    :func:`~llmextract.quotation.quoted_mask` marks, quotation marks aside, without building
    a mask of the whole text. Cached: a scorer asks once per quote of the same document."""
    firsts: list[int] = []
    ends: list[int] = []
    for q in sorted((q for q in quotations(text) if q.depth == 0), key=lambda q: q.open):
        first, end = q.open + 1, q.close
        if first >= end:
            continue
        if ends and first <= ends[-1]:
            ends[-1] = max(ends[-1], end)
        else:
            firsts.append(first)
            ends.append(end)
    return firsts, ends


def _quoted(text: str, i: int, firsts: list[int], ends: list[int]) -> bool:
    """Whether character ``i`` of ``text`` is quoted (inside a quotation, not a mark), given
    :func:`_quoted_ranges` of ``text``."""
    if not 0 <= i < len(text) or text[i] in QUOTE_MARKS:
        return False
    at = bisect_left(firsts, i + 1) - 1  # the last range starting at or before i
    return at >= 0 and i < ends[at]
