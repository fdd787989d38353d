"""The DIRECT subset of quotes (``quotes.content_direct``): which contents are in it.

Pure: no I/O, no client.
"""

from __future__ import annotations

from llmextract.quotation import QUOTE_MARKS, quoted_mask
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
    quoted = quoted_mask(text)
    last = max(span.start, span.end - 1)
    return any(0 <= i < len(quoted) and quoted[i] for i in (span.start, last))
