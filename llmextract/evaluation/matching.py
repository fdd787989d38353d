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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
import numpy.typing as npt
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
    "token_ranges",
]

SpanCriterion = Literal["exact", "iou", "token"]

IOU_THRESHOLD = 0.5
TOKEN_PATTERN = re.compile(r"\w+|[^\w\s]")
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
_SPACE, _WORD, _OTHER = 0, 1, 2  # character classes: whitespace, \w, anything else


@dataclass(frozen=True)
class _TextIndex:
    """Token boundaries and a running count of non-whitespace characters of one text."""

    starts: IntArray
    ends: IntArray
    nonspace: IntArray  # nonspace[i] = non-whitespace characters in text[:i]

    def count_nonspace(self, start: int, end: int) -> int:
        return int(self.nonspace[end] - self.nonspace[start]) if end > start else 0


def _class(char: str) -> int:
    """What ``\\s`` and ``\\w`` accept in a ``str`` pattern: ``isspace``, ``isalnum`` or ``_``."""
    return _SPACE if char.isspace() else _WORD if char.isalnum() or char == "_" else _OTHER


@lru_cache(maxsize=1)
def _plane_classes() -> npt.NDArray[np.uint8]:
    """The class of every code point of the basic plane, looked up by code point."""
    return np.array([_class(chr(code)) for code in range(0x10000)], dtype=np.uint8)


@lru_cache(maxsize=32)
def _index(text: str) -> _TextIndex:
    # The same tokens as TOKEN_PATTERN.finditer, found with array operations: a token is a
    # maximal run of word characters or one character that is neither word nor space.
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    classes = _plane_classes()[np.minimum(codes, 0xFFFF)]
    for i in np.flatnonzero(codes > 0xFFFF):
        classes[i] = _class(text[i])
    word = classes == _WORD
    other = classes == _OTHER
    after_word = np.concatenate(([False], word[:-1]))
    before_word = np.concatenate((word[1:], [False]))
    starts = np.flatnonzero(other | (word & ~after_word))
    ends = np.flatnonzero(other | (word & ~before_word)) + 1
    nonspace = np.concatenate(([0], np.cumsum(classes != _SPACE)))
    return _TextIndex(starts.astype(np.int64), ends.astype(np.int64), nonspace.astype(np.int64))


def _bounds(span: Span, text: str) -> tuple[int, int]:
    """The span's offsets, clipped to the text."""
    start = min(max(span.start, 0), len(text))
    return start, min(max(span.end, start), len(text))


def _bound_arrays(spans: Sequence[Span], text: str) -> tuple[IntArray, IntArray]:
    """:func:`_bounds` of every span at once: their starts and their ends."""
    offsets = np.array([(span.start, span.end) for span in spans], dtype=np.int64)
    start = np.minimum(np.maximum(offsets.reshape(len(spans), 2)[:, 0], 0), len(text))
    return start, np.minimum(np.maximum(offsets.reshape(len(spans), 2)[:, 1], start), len(text))


def token_indices(span: Span, text: str) -> range:
    """Indices (into the text's tokens) of the tokens the span overlaps.

    >>> text = "He said: no way."
    >>> list(token_indices(Span(text="said: no", start=3, end=11), text))
    [1, 2, 3]
    >>> list(token_indices(Span(text="ai", start=4, end=6), text))  # part of a token holds it
    [1]
    """
    first, stop = token_ranges([span], text)[0]
    return range(int(first), int(stop))


def token_ranges(spans: Sequence[Span], text: str) -> IntArray:
    """:func:`token_indices` of every span at once: one row ``(first, stop)`` per span."""
    index = _index(text)
    start, end = _bound_arrays(spans, text)
    first = np.searchsorted(index.ends, start, side="right")  # the first token ending after
    stop = np.maximum(first, np.searchsorted(index.starts, end, side="left"))
    empty = start == end
    first[empty] = stop[empty] = 0
    return np.stack((first, stop), axis=1).astype(np.int64)


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
    return float(_similarities([a], [b], text, criterion)[0, 0])


def _similarities(
    pred: Sequence[Span], gold: Sequence[Span], text: str, criterion: SpanCriterion
) -> FloatArray:
    """:func:`span_similarity` of every predicted span (rows) with every gold span (columns),
    computed for the whole matrix at once."""
    if criterion not in ("exact", "iou", "token"):
        raise ValueError(f"unknown span criterion {criterion!r}")
    if not pred or not gold:
        return np.zeros((len(pred), len(gold)))
    if criterion == "exact":
        a = np.array([_stripped(span, text) for span in pred], dtype=np.int64)
        b = np.array([_stripped(span, text) for span in gold], dtype=np.int64)
        same = (a[:, None, 0] == b[None, :, 0]) & (a[:, None, 1] == b[None, :, 1])
        exact: FloatArray = (same & (a[:, None, 0] < a[:, None, 1])).astype(np.float64)
        return exact
    if criterion == "iou":
        nonspace = _index(text).nonspace
        a_start, a_end = _bound_arrays(pred, text)
        b_start, b_end = _bound_arrays(gold, text)
        low = np.maximum(a_start[:, None], b_start[None, :])
        high = np.minimum(a_end[:, None], b_end[None, :])
        inter = np.where(high > low, nonspace[high] - nonspace[low], 0)
        a_size = nonspace[a_end] - nonspace[a_start]
        b_size = nonspace[b_end] - nonspace[b_start]
        union = a_size[:, None] + b_size[None, :] - inter
        iou: FloatArray = np.zeros(inter.shape)
        np.divide(inter, union, out=iou, where=inter > 0)
        iou[iou < IOU_THRESHOLD] = 0.0
        return iou
    a_tokens = token_ranges(pred, text)
    b_tokens = token_ranges(gold, text)
    shared = np.minimum(a_tokens[:, None, 1], b_tokens[None, :, 1]) - np.maximum(
        a_tokens[:, None, 0], b_tokens[None, :, 0]
    )
    sizes = (a_tokens[:, 1] - a_tokens[:, 0])[:, None] + (b_tokens[:, 1] - b_tokens[:, 0])[None, :]
    jaccard: FloatArray = np.zeros(shared.shape)
    np.divide(shared, sizes - shared, out=jaccard, where=shared > 0)
    return jaccard


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
    similarity = _similarities(pred, gold, text, criterion)
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
