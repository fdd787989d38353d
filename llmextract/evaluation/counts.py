"""Count types: a field's tp/fp/fn, token overlap counts, one document's counts, a corpus field.

Results are plain numbers and strings: ``dataclasses.asdict`` and ``model_dump`` make them
JSON-ready. Pure: no I/O, no client.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel

__all__ = ["Counts", "DocumentScore", "FieldMetrics", "TokenCounts", "f1_of_sums"]

FloatArray = npt.NDArray[np.float64]


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def _f1(precision: float, recall: float) -> float:
    return _ratio(2 * precision * recall, precision + recall)


@dataclass
class Counts:
    """True positives, false positives and false negatives of one field.

    >>> counts = Counts(tp=1, fp=1, fn=2) + Counts()
    >>> counts.precision, round(counts.recall, 3), counts.f1
    (0.5, 0.333, 0.4)
    >>> Counts().f1
    0.0
    """

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float:
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float:
        return _ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn)

    @property
    def total(self) -> int:
        return self.tp + self.fp + self.fn

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)


@dataclass
class TokenCounts:
    """Token overlap of predicted and gold spans (see :func:`token_prf`).

    >>> counts = TokenCounts(pred_in_gold=3, pred_total=4, gold_covered=3, gold_total=6)
    >>> counts.precision, counts.recall, round(counts.f1, 3)
    (0.75, 0.5, 0.6)
    """

    pred_in_gold: int = 0
    pred_total: int = 0
    gold_covered: int = 0
    gold_total: int = 0

    @property
    def precision(self) -> float:
        return _ratio(self.pred_in_gold, self.pred_total)

    @property
    def recall(self) -> float:
        return _ratio(self.gold_covered, self.gold_total)

    @property
    def f1(self) -> float:
        return _f1(self.precision, self.recall)

    @property
    def total(self) -> int:
        return self.pred_total + self.gold_total

    def __add__(self, other: TokenCounts) -> TokenCounts:
        return TokenCounts(
            self.pred_in_gold + other.pred_in_gold,
            self.pred_total + other.pred_total,
            self.gold_covered + other.gold_covered,
            self.gold_total + other.gold_total,
        )


@dataclass
class DocumentScore:
    """Counts of one task in one document.

    ``counts`` is keyed by field (``"content"``, ``"arg:actor"``...), ``tokens`` holds the
    content token overlap for quotes (``None`` for the other tasks), and ``pairs`` holds
    ``(gold label, predicted label)`` per label field (``"kind"``, ``"type"``,
    ``"polarity"``), with :data:`MISSED` / :data:`SPURIOUS` for unmatched records.
    """

    id: str
    task: str
    counts: dict[str, Counts]
    tokens: TokenCounts | None = None
    pairs: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


class FieldMetrics(BaseModel):
    """A field over a corpus: micro scores from summed counts, the macro F1, and the 95%
    bootstrap interval of the F1.

    ``macro_f1`` is the mean per-document F1 over the ``scored_documents`` that have any gold
    or predicted item for the field; ``documents`` counts all documents of the task. For
    ``quotes.content_token``, ``tp`` is the predicted tokens inside gold, ``fp`` the others
    and ``fn`` the gold tokens no prediction covers; ``tokens`` has the raw token counts.
    """

    precision: float
    recall: float
    f1: float
    macro_f1: float
    tp: int
    fp: int
    fn: int
    documents: int
    scored_documents: int
    tokens: TokenCounts | None = None
    f1_ci: tuple[float, float]


def _safe_ratio(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    out = np.zeros_like(numerator, dtype=float)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def f1_of_sums(sums: FloatArray) -> FloatArray:
    """Micro F1 of summed count rows (the last axis holds the counts)."""
    if sums.shape[-1] == 4:
        precision = _safe_ratio(sums[..., 0], sums[..., 1])
        recall = _safe_ratio(sums[..., 2], sums[..., 3])
        return _safe_ratio(2 * precision * recall, precision + recall)
    tp, fp, fn = sums[..., 0], sums[..., 1], sums[..., 2]
    return _safe_ratio(2 * tp, 2 * tp + fp + fn)
