"""Where the quotations of a text are: the one rule for what counts as inside quotation marks.

Candidates (:mod:`llmextract.candidates`), the ``content_direct`` metric
(:mod:`llmextract.evaluation.direct`) and the gold converters' quote kinds
(:mod:`llmextract.evaluation.converters`) all ask this module, so a system and the
metric that measures it cannot disagree about a quotation mark.

The rule
    * Only double marks count: straight ``"``, curly ``\u201c`` and ``\u201d``, and low
      ``\u201e``. Single marks never do (``\u2019`` is mostly an apostrophe).
    * Whether a mark opens or closes is read from the characters beside it, as typesetters
      do: a mark with a space, a line break, an opening bracket or a dash before it and
      no space after it opens a quotation; a mark with no space before it and a space, a
      line break or closing punctuation (``. , ; : ! ? \u2026`` or a closing bracket)
      after it closes one. So an inch mark (``6'3" tall``) or a stray closing mark opens
      nothing, and a quotation typed with mixed marks (``\u201cno," he said``) still
      closes.
    * Only where the spacing tells neither does the mark's shape decide: ``\u201c`` and
      ``\u201e`` open, except that ``\u201c`` closes a quotation opened by ``\u201e``
      (German ``\u201e...\u201c``); ``\u201d`` closes; a straight ``"`` closes the
      innermost quotation if that one opened with ``"``, and otherwise opens one.
    * A closing ``"`` closes the innermost open quotation. A closing curly mark closes the
      innermost quotation opened by a curly or low mark, together with any opened inside
      it by a stray ``"``, or else the innermost one. A closing mark with no quotation
      open is ignored. Quotations nest: one opened inside another is part of it.
    * A quotation still open at the end of its paragraph ends there: news style opens
      every paragraph of a long quotation again and closes only the last one. A paragraph
      ends at a blank line, at the end of the text, and at a line break before a line that
      opens with a quotation mark (``"``, ``\u201c`` or ``\u201e``: a paragraph of
      a long quotation opened again, where paragraphs are one line each). Any other line
      break (a wrapped line, or text with one sentence per line) is inside the paragraph.
    * A character is *quoted* when it lies inside a quotation; the marks themselves are not.

>>> text = 'He said "we will win" and left.'
>>> [text[q.open + 1 : q.close] for q in quotations(text)]
['we will win']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from llmextract.schemas import QuoteKind

__all__ = ["QUOTE_MARKS", "Quotation", "quotations", "quote_kind", "quoted_mask"]

QUOTE_MARKS = frozenset('"\u201c\u201d\u201e')
_STRAIGHT, _OPEN, _LOW = '"', "\u201c", "\u201e"
# A mark that closes the innermost quotation when that one opened with the given mark.
_CLOSES = {_STRAIGHT: _STRAIGHT, _OPEN: _LOW}
_BEFORE_OPENING = frozenset("([{\u2014\u2013")
_AFTER_CLOSING = frozenset(".,;:!?\u2026)]}\u2014\u2013")
_MARK_OR_BREAK = re.compile('["\u201c\u201d\u201e]|\r\n?|\n')
_LINE_BREAK = re.compile("\r\n?|\n")
_OPENING_MARKS = frozenset((_STRAIGHT, _OPEN, _LOW))


@dataclass(frozen=True)
class Quotation:
    """One quotation: its text is ``text[open + 1 : close]``."""

    open: int
    """Index of the opening mark."""
    close: int
    """Index of the closing mark; when none closed it, of the paragraph's end or of the
    closing mark of the quotation around it (which ends a stray one left open inside)."""
    closed: bool
    """Whether a closing mark ended it."""
    depth: int
    """0 for an outermost quotation, 1 for one quoted inside it, and so on."""


def _ends_paragraph(text: str, start: int, end: int) -> bool:
    """Whether the line break ``text[start:end]`` ends a paragraph (see the module docstring)."""
    line_start = max(text.rfind("\n", 0, start), text.rfind("\r", 0, start)) + 1
    before = text[line_start:start]
    next_break = _LINE_BREAK.search(text, end)
    following = text[end : next_break.start() if next_break else len(text)]
    return not before.strip() or not following.strip() or following.lstrip()[:1] in _OPENING_MARKS


def _opens(text: str, pos: int, stack: Sequence[tuple[int, str]]) -> bool:
    """Whether the mark at ``text[pos]`` opens a quotation (see the module docstring)."""
    before = text[pos - 1] if pos > 0 else " "
    after = text[pos + 1] if pos + 1 < len(text) else " "
    opening = (before.isspace() or before in _BEFORE_OPENING) and not after.isspace()
    closing = not before.isspace() and (after.isspace() or after in _AFTER_CLOSING)
    if opening != closing:
        return opening
    mark = text[pos]
    if mark in _CLOSES:
        return not stack or stack[-1][1] != _CLOSES[mark]
    return mark == _LOW


def quotations(text: str) -> tuple[Quotation, ...]:
    """Every quotation of ``text``, in the order their opening marks appear.

    >>> text = '\u201cIt is \u201ejust\u201c a \"plan\",\u201d she said. \u201d Nothing.'
    >>> [(text[q.open + 1 : q.close], q.depth) for q in quotations(text)]
    [('It is \u201ejust\u201c a "plan",', 0), ('just', 1), ('plan', 1)]

    A quotation left open ends with its paragraph, and the next paragraph opens again:

    >>> text = '\u201cWe stay.\\n\u201cWe build,\u201d he said.\\n\\n"Stray mark here.'
    >>> [(text[q.open + 1 : q.close], q.closed) for q in quotations(text)]
    [('We stay.', False), ('We build,', True), ('Stray mark here.', False)]

    Spacing tells an inch mark or a stray closing mark from an opening one, and closes a
    quotation typed with mixed marks:

    >>> text = 'He is 6\\'3" tall. \u201cNo way," she said, "and" left.'
    >>> [text[q.open + 1 : q.close] for q in quotations(text)]
    ['No way,', 'and']

    A line that does not open with a quotation mark goes on with the paragraph:

    >>> text = '"It was a\\nmistake. We know,"\\nhe added.'
    >>> [text[q.open + 1 : q.close] for q in quotations(text)]
    ['It was a\\nmistake. We know,']
    """
    found: list[Quotation] = []
    stack: list[tuple[int, str]] = []  # (position, mark) of the open quotations, innermost last

    def end(depth: int, at: int, closed: bool) -> None:
        """End the open quotations from ``depth`` inwards at ``at``."""
        for level in range(len(stack) - 1, depth - 1, -1):
            found.append(Quotation(stack[level][0], at, closed and level == depth, level))
        del stack[depth:]

    for m in _MARK_OR_BREAK.finditer(text):
        pos, mark = m.start(), m.group()
        if mark[0] in "\r\n":
            if stack and _ends_paragraph(text, pos, m.end()):
                end(0, pos, closed=False)
        elif _opens(text, pos, stack):
            stack.append((pos, mark))
        elif stack:
            curly = [k for k, (_, opener) in enumerate(stack) if opener != _STRAIGHT]
            end(curly[-1] if curly and mark != _STRAIGHT else len(stack) - 1, pos, closed=True)
    end(0, len(text), closed=False)
    return tuple(sorted(found, key=lambda q: q.open))


@lru_cache(maxsize=32)
def quoted_mask(text: str) -> tuple[bool, ...]:
    """For each character of ``text``: is it quoted (inside a quotation, not a mark)?

    Cached for the last few texts: a scorer asks once per quote of the same document.

    >>> text = 'A "b" c'
    >>> "".join("q" if quoted else "." for quoted in quoted_mask(text))
    '...q...'
    """
    mask = [False] * len(text)
    for q in quotations(text):
        if q.depth == 0:
            mask[q.open + 1 : q.close] = [True] * (q.close - q.open - 1)
    for i, char in enumerate(text):
        if char in QUOTE_MARKS:
            mask[i] = False
    return tuple(mask)


def quote_kind(
    text: str, fragments: Iterable[tuple[int, int]], mask: Sequence[bool] | None = None
) -> QuoteKind:
    """The kind of the content made of ``fragments`` (``(start, end)`` offsets) of ``text``.

    A content (judged on its fragments only, not on the gaps between them) is ``"direct"``
    if it has letters or digits inside a quotation and none outside: quoted words only, the
    marks and punctuation aside, which covers a content that carries its own marks and one
    that starts and ends inside a quotation without them; ``"mixed"`` if it has quoted words
    and unquoted ones too; ``"indirect"`` if it has no quoted word. ``mask`` is
    :func:`quoted_mask` of ``text``, to compute once per document.

    >>> text = 'She said "we will win" and left.'
    >>> [quote_kind(text, [span]) for span in [(9, 22), (4, 22), (0, 8)]]
    ['direct', 'mixed', 'indirect']
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
