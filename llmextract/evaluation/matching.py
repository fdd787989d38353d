"""Span matching: when a predicted span counts as a gold one, and the best one-to-one pairing.

Three criteria, all judged against the document text (spans are character offsets into it):

``exact``
    Same start and end once leading and trailing whitespace is stripped from both spans.
``iou``
    Intersection over union of the spans' *non-whitespace* character positions is at least
    0.5, so spans that differ only by surrounding or inner whitespace count as equal.
``token``
    The spans share at least one token; tokens are the matches of ``\\w+|[^\\w\\s]`` over the
    text, and a span holds every token it overlaps by at least one character.

A span with no non-whitespace character matches nothing under any criterion.
Pure: no I/O, no client.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
from scipy.optimize import linear_sum_assignment  # type: ignore[import-untyped]

from llmextract.schemas import Span

__all__ = [
    "IOU_THRESHOLD",
    "TOKEN_PATTERN",
    "SpanCriterion",
    "match",
    "span_similarity",
    "spans_overlap",
    "token_indices",
]

SpanCriterion = Literal["exact", "iou", "token"]

IOU_THRESHOLD = 0.5
TOKEN_PATTERN = re.compile(r"\w+|[^\w\s]")


@dataclass(frozen=True)
class _TextIndex:
    """Token boundaries and a running count of non-whitespace characters of one text."""

    starts: tuple[int, ...]
    ends: tuple[int, ...]
    nonspace: tuple[int, ...]  # nonspace[i] = non-whitespace characters in text[:i]

    def count_nonspace(self, start: int, end: int) -> int:
        return self.nonspace[end] - self.nonspace[start] if end > start else 0


@lru_cache(maxsize=32)
def _index(text: str) -> _TextIndex:
    starts: list[int] = []
    ends: list[int] = []
    for found in TOKEN_PATTERN.finditer(text):
        starts.append(found.start())
        ends.append(found.end())
    nonspace = [0]
    for char in text:
        nonspace.append(nonspace[-1] + (not char.isspace()))
    return _TextIndex(tuple(starts), tuple(ends), tuple(nonspace))


def _bounds(span: Span, text: str) -> tuple[int, int]:
    """The span's offsets, clipped to the text."""
    start = min(max(span.start, 0), len(text))
    return start, min(max(span.end, start), len(text))


def token_indices(span: Span, text: str) -> range:
    """Indices (into the text's tokens) of the tokens the span overlaps.

    >>> text = "He said: no way."
    >>> list(token_indices(Span(text="said: no", start=3, end=11), text))
    [1, 2, 3]
    >>> list(token_indices(Span(text="ai", start=4, end=6), text))  # part of a token holds it
    [1]
    """
    index = _index(text)
    start, end = _bounds(span, text)
    if start == end:
        return range(0)
    first = bisect_right(index.ends, start)  # first token ending after the span starts
    stop = bisect_left(index.starts, end)  # tokens starting before the span ends
    return range(first, max(first, stop))


def spans_overlap(a: Span, b: Span, text: str) -> bool:
    """Whether two spans share a non-whitespace character of the text."""
    a_start, a_end = _bounds(a, text)
    b_start, b_end = _bounds(b, text)
    return _index(text).count_nonspace(max(a_start, b_start), min(a_end, b_end)) > 0


def _stripped(span: Span, text: str) -> tuple[int, int]:
    start, end = _bounds(span, text)
    passage = text[start:end]
    return start + len(passage) - len(passage.lstrip()), end - len(passage) + len(passage.rstrip())


def span_similarity(a: Span, b: Span, text: str, criterion: SpanCriterion) -> float:
    """How well two spans of ``text`` match under ``criterion``, in [0, 1]; 0 if they don't.

    ``exact`` gives 1.0 or 0.0; ``iou`` the non-whitespace IoU when it reaches 0.5;
    ``token`` the Jaccard index of the two spans' token sets when they share a token.

    >>> text = "The minister said  the plan  would fail."
    >>> a = Span(text="the plan  would fail", start=19, end=39)
    >>> span_similarity(a, Span(text=" the plan  would fail.", start=18, end=40), text, "exact")
    0.0
    >>> span_similarity(a, Span(text="  the plan  would fail", start=17, end=39), text, "exact")
    1.0
    >>> span_similarity(a, Span(text="the plan", start=19, end=27), text, "iou")  # 7/16
    0.0
    >>> span_similarity(a, Span(text="the plan  would", start=19, end=34), text, "iou")  # 12/16
    0.75
    >>> span_similarity(a, Span(text="the plan", start=19, end=27), text, "token")  # 2/4
    0.5
    """
    if criterion == "exact":
        a_start, a_end = _stripped(a, text)
        return 1.0 if a_start < a_end and (a_start, a_end) == _stripped(b, text) else 0.0
    if criterion == "iou":
        index = _index(text)
        a_start, a_end = _bounds(a, text)
        b_start, b_end = _bounds(b, text)
        inter = index.count_nonspace(max(a_start, b_start), min(a_end, b_end))
        if inter == 0:
            return 0.0
        union = index.count_nonspace(a_start, a_end) + index.count_nonspace(b_start, b_end) - inter
        iou = inter / union
        return iou if iou >= IOU_THRESHOLD else 0.0
    if criterion == "token":
        a_tokens = token_indices(a, text)
        b_tokens = token_indices(b, text)
        shared = min(a_tokens.stop, b_tokens.stop) - max(a_tokens.start, b_tokens.start)
        if shared <= 0:
            return 0.0
        return shared / (len(a_tokens) + len(b_tokens) - shared)
    raise ValueError(f"unknown span criterion {criterion!r}")


def match(
    pred: Sequence[Span],
    gold: Sequence[Span],
    text: str,
    criterion: SpanCriterion,
    *,
    agree: Callable[[int, int], bool] | None = None,
) -> list[tuple[int, int]]:
    """The best one-to-one pairing of predicted with gold spans, as ``(pred, gold)`` indices.

    Only pairs that match under ``criterion`` (similarity > 0) can be paired. The pairing is
    an optimal assignment (:func:`scipy.optimize.linear_sum_assignment`): it pairs as many
    spans as possible and, among such pairings, maximises the total similarity, so a span
    that overlaps two others never steals the only partner of a third (as greedy matching
    can). Pairs come sorted by predicted index. ``agree(p, g)`` breaks ties between equally
    similar pairings: two stances with the same evidence pair with the gold of their own
    target, not crosswise.

    >>> text = "Smith said the deal was dead, and Jones agreed."
    >>> gold = [Span(text="the deal was dead", start=11, end=28),
    ...         Span(text="Jones", start=34, end=39)]
    >>> pred = [Span(text="Jones agreed", start=34, end=46),
    ...         Span(text="the deal was dead,", start=11, end=29)]
    >>> match(pred, gold, text, "exact")
    []
    >>> match(pred, gold, text, "iou")  # "Jones" is 5 of the 11 non-space characters: < 0.5
    [(1, 0)]
    >>> match(pred, gold, text, "token")
    [(0, 1), (1, 0)]
    """
    if not pred or not gold:
        return []
    similarity = np.array(
        [[span_similarity(p, g, text, criterion) for g in gold] for p in pred], dtype=float
    )
    if agree is not None:  # a tie-break: below any difference in similarity that matters
        similarity += (
            1e-6
            * np.array(
                [[agree(p, g) for g in range(len(gold))] for p in range(len(pred))], dtype=float
            )
            * (similarity > 0)
        )
    # A bonus larger than any total similarity makes the number of pairs come first.
    weight = np.where(similarity > 0, similarity + min(len(pred), len(gold)) + 1, 0.0)
    rows, cols = linear_sum_assignment(weight, maximize=True)
    return sorted(
        (int(row), int(col))
        for row, col in zip(rows, cols, strict=True)
        if similarity[row, col] > 0
    )
