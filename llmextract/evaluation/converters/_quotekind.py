"""The direct / indirect / mixed rule shared by the quote converters (PolNeAR, BASIL).

Only double quotation marks count: ``"``, ``“`` and ``”`` (a single ``\u2019`` is usually an
apostrophe). Quotations are found by scanning the whole text, one line (paragraph) at a
time: ``“`` opens, ``”`` closes the innermost ``“``, a straight ``"`` closes an open
straight ``"`` and otherwise opens one, so quotes nested in another kind of mark are
handled. An unmatched closing ``”`` is ignored, and a quotation still open at a line break
ends there (news style opens every paragraph of a long quotation again and closes only the
last one).

A content, given as its fragments (a discontinuous content is judged on its fragments only,
not on the gap between them), is then

* ``"direct"`` if it has letters or digits inside a quotation and none outside: quoted
  words only, the marks themselves and punctuation aside; this covers a content that
  carries its own marks and one that starts and ends inside a quotation without them;
* ``"mixed"`` if it has quoted words and also unquoted words beyond the quotes;
* ``"indirect"`` otherwise (no quoted word at all).
"""

from __future__ import annotations

from collections.abc import Iterable

from llmextract.schemas import QuoteKind

__all__ = ["QUOTE_MARKS", "quote_kind", "quoted_mask"]

QUOTE_MARKS = frozenset('"\u201c\u201d')
_OPEN, _CLOSE, _STRAIGHT = "\u201c", "\u201d", '"'


def quoted_mask(text: str) -> list[bool]:
    """For each character of ``text``: is it inside a quotation (the marks are not)?"""
    mask = [False] * len(text)
    stack: list[str] = []
    for i, char in enumerate(text):
        if char in "\r\n":
            stack.clear()
        elif char == _OPEN:
            stack.append(char)
        elif char == _CLOSE:
            if stack and stack[-1] == _OPEN:
                stack.pop()
        elif char == _STRAIGHT:
            if stack and stack[-1] == _STRAIGHT:
                stack.pop()
            else:
                stack.append(char)
        else:
            mask[i] = bool(stack)
    return mask


def quote_kind(
    text: str, fragments: Iterable[tuple[int, int]], mask: list[bool] | None = None
) -> QuoteKind:
    """The kind of the content made of ``fragments`` (``(start, end)`` offsets) of ``text``.

    ``mask`` is :func:`quoted_mask` of ``text``, to compute once per document.
    """
    if mask is None:
        mask = quoted_mask(text)
    quoted = unquoted = False
    for start, end in fragments:
        for i in range(start, end):
            if text[i].isalnum():
                if mask[i]:
                    quoted = True
                else:
                    unquoted = True
    if not quoted:
        return "indirect"
    return "mixed" if unquoted else "direct"
