"""A corpus's per-document counts (:class:`ScoreTable`): aggregates, intervals, paired deltas.

Pure: no I/O, no client.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from llmextract.evaluation.bootstrap import percentile_interval, resampled_sums
from llmextract.evaluation.counts import (
    Counts,
    DocumentScore,
    FieldMetrics,
    TokenCounts,
    f1_of_sums,
)
from llmextract.evaluation.fields import split_key

__all__ = ["ScoreTable", "aggregate", "bootstrap", "confusion", "paired_bootstrap"]

FloatArray = npt.NDArray[np.float64]


@dataclass
class _TaskColumns:
    """One task's counts: per field, ``tp, fp, fn`` of each document in turn (and the four
    token counts of :class:`TokenCounts`), as flat machine integers."""

    ids: list[str] = field(default_factory=list)
    counts: dict[str, array[int]] = field(default_factory=dict)
    tokens: array[int] = field(default_factory=lambda: array("q"))
    has_tokens: bool = False

    def matrix(self, name: str) -> FloatArray:
        """One row per document: tp, fp, fn (or the four token counts for ``content_token``)."""
        if name == "content_token":
            return np.array(self.tokens, dtype=float).reshape(len(self.ids), 4)
        column = self.counts.get(name, array("q", bytes(24 * len(self.ids))))
        return np.array(column, dtype=float).reshape(len(self.ids), 3)


def _field(
    rates: Counts | TokenCounts, counts: Counts, scored: FloatArray, documents: int
) -> dict[str, Any]:
    """One field's corpus figures: P/R/F1 of ``rates``, the mean F1 of the documents that
    have something (``scored``), and ``counts``."""
    return {
        "precision": rates.precision,
        "recall": rates.recall,
        "f1": rates.f1,
        "macro_f1": float(np.mean(scored)) if len(scored) else 0.0,
        "tp": counts.tp,
        "fp": counts.fp,
        "fn": counts.fn,
        "documents": documents,
        "scored_documents": len(scored),
    }


class ScoreTable:
    """The per-document counts of a corpus, one document at a time, kept as numbers only.

    :func:`aggregate`, :func:`bootstrap`, :func:`paired_bootstrap` and :func:`confusion` read
    one; a run adds each document's scores as they come, so that scoring holds a few numbers
    per document and field instead of the documents.

    >>> from llmextract.evaluation.scorers import score_document
    >>> from llmextract.schemas import Event, Span
    >>> text = "a b c d"
    >>> s = lambda i: Span(text=text[i], start=i, end=i + 1)
    >>> table = ScoreTable()
    >>> for i in range(3):
    ...     pred, gold = [Event(type="AID", trigger=s(2 * i))], [Event(type="AID", trigger=s(2))]
    ...     table.add(score_document("events", pred, gold, text, "exact", doc_id=str(i)))
    >>> table.aggregate()["events.trigger"].f1, table.documents("events")
    (0.3333333333333333, 3)
    """

    def __init__(self) -> None:
        self._tasks: dict[str, _TaskColumns] = {}
        self._labels: dict[str, dict[str, dict[str, int]]] = {}

    @classmethod
    def of(cls, scores: Iterable[DocumentScore]) -> ScoreTable:
        table = cls()
        for score in scores:
            table.add(score)
        return table

    def add(self, score: DocumentScore) -> None:
        """Count one task of one document (its label pairs go to the confusion matrices)."""
        columns = self._tasks.setdefault(score.task, _TaskColumns())
        for name in score.counts:
            if name not in columns.counts:  # documents before had none of it: zeros
                columns.counts[name] = array("q", bytes(24 * len(columns.ids)))
        columns.ids.append(score.id)
        for name, column in columns.counts.items():
            counts = score.counts.get(name, Counts())
            column.extend((counts.tp, counts.fp, counts.fn))
        tokens = score.tokens or TokenCounts()
        columns.tokens.extend(
            (tokens.pred_in_gold, tokens.pred_total, tokens.gold_covered, tokens.gold_total)
        )
        columns.has_tokens |= score.tokens is not None
        for name, pairs in score.pairs.items():
            matrix = self._labels.setdefault(f"{score.task}.{name}", {})
            for gold_label, pred_label in pairs:
                row = matrix.setdefault(gold_label, {})
                row[pred_label] = row.get(pred_label, 0) + 1

    def documents(self, task: str) -> int:
        columns = self._tasks.get(task)
        return 0 if columns is None else len(columns.ids)

    def aggregate(
        self, *, samples: int = 1000, seed: int = 0, confidence: float = 0.95
    ) -> dict[str, FieldMetrics]:
        """Corpus results per ``task.field``, with the :meth:`intervals` of their F1: see
        :func:`aggregate`."""
        results: dict[str, dict[str, Any]] = {}
        for task, columns in self._tasks.items():
            documents = len(columns.ids)
            for name in columns.counts:
                matrix = columns.matrix(name)
                total = Counts(*(int(n) for n in matrix.sum(axis=0)))
                scored = f1_of_sums(matrix[matrix.sum(axis=1) > 0])
                results[f"{task}.{name}"] = _field(total, total, scored, documents)
            if columns.has_tokens:
                matrix = columns.matrix("content_token")
                tokens = TokenCounts(*(int(n) for n in matrix.sum(axis=0)))
                scored = f1_of_sums(matrix[matrix[:, 1] + matrix[:, 3] > 0])
                counts = Counts(
                    tp=tokens.pred_in_gold,
                    fp=tokens.pred_total - tokens.pred_in_gold,
                    fn=tokens.gold_total - tokens.gold_covered,
                )
                results[f"{task}.content_token"] = {
                    **_field(tokens, counts, scored, documents),
                    "tokens": tokens,
                }
        intervals = self.intervals(results, samples=samples, seed=seed, confidence=confidence)
        return {
            key: FieldMetrics(
                **values, f1_ci=(round(intervals[key][0], 4), round(intervals[key][1], 4))
            )
            for key, values in results.items()
        }

    def intervals(
        self,
        keys: Iterable[str],
        *,
        samples: int = 1000,
        seed: int = 0,
        confidence: float = 0.95,
    ) -> dict[str, tuple[float, float]]:
        """:func:`bootstrap` of each field: every field of a task is resampled alike."""
        out: dict[str, tuple[float, float]] = {}
        for task, names in _by_task(keys).items():
            columns = self._tasks.get(task)
            if columns is None:
                out.update(dict.fromkeys((f"{task}.{name}" for name in names), (0.0, 0.0)))
                continue
            matrices = [columns.matrix(name) for name in names]
            sums = resampled_sums(np.hstack(matrices), samples, seed)
            for name, part in zip(names, _split_columns(sums, matrices), strict=True):
                out[f"{task}.{name}"] = percentile_interval(f1_of_sums(part), confidence)
        return out

    def deltas(
        self,
        other: ScoreTable,
        keys: Iterable[str],
        *,
        samples: int = 1000,
        seed: int = 0,
        confidence: float = 0.95,
    ) -> dict[str, tuple[float, float, float, float]]:
        """:func:`paired_bootstrap` of each field, this table being run A and ``other`` B."""
        out: dict[str, tuple[float, float, float, float]] = {}
        for task, names in _by_task(keys).items():
            ids = _paired_ids(self._tasks.get(task), other._tasks.get(task), task)
            if not ids:
                out.update(dict.fromkeys((f"{task}.{name}" for name in names), (0.0,) * 4))
                continue
            a_columns, b_columns = self._tasks[task], other._tasks[task]
            a_rows, b_rows = _positions(a_columns.ids, ids), _positions(b_columns.ids, ids)
            a = [a_columns.matrix(name)[a_rows] for name in names]
            b = [b_columns.matrix(name)[b_rows] for name in names]
            sums = resampled_sums(np.hstack(a + b), samples, seed)
            parts = _split_columns(sums, a + b)
            for i, name in enumerate(names):
                delta = float(f1_of_sums(b[i].sum(axis=0)) - f1_of_sums(a[i].sum(axis=0)))
                resampled = f1_of_sums(parts[len(names) + i]) - f1_of_sums(parts[i])
                low, high = percentile_interval(resampled, confidence)
                out[f"{task}.{name}"] = (delta, low, high, float(np.mean(resampled < 0)))
        return out

    def document_f1(self, key: str) -> list[tuple[str, float]]:
        """Each document's F1 on a field, in the order they were added (0 when it counted
        nothing)."""
        task, name = split_key(key)
        columns = self._tasks.get(task)
        if columns is None:
            return []
        f1 = f1_of_sums(columns.matrix(name)).tolist()
        return list(zip(columns.ids, f1, strict=True))

    def confusion(self, key: str) -> dict[str, dict[str, int]]:
        """Gold label -> predicted label -> count: see :func:`confusion`."""
        split_key(key)
        return {gold: dict(row) for gold, row in self._labels.get(key, {}).items()}


def _by_task(keys: Iterable[str]) -> dict[str, list[str]]:
    """Field names grouped by task, in the order given."""
    grouped: dict[str, list[str]] = {}
    for key in keys:
        task, name = split_key(key)
        grouped.setdefault(task, []).append(name)
    return grouped


def _split_columns(sums: FloatArray, matrices: Sequence[FloatArray]) -> list[FloatArray]:
    """``sums`` cut back into one block of columns per matrix it was stacked from."""
    edges = np.cumsum([matrix.shape[1] for matrix in matrices])[:-1]
    return np.hsplit(sums, edges)


def _paired_ids(a: _TaskColumns | None, b: _TaskColumns | None, task: str) -> list[str]:
    """The documents both runs scored for ``task``, sorted; they must be the same, once each."""
    a_ids, b_ids = (a.ids if a else []), (b.ids if b else [])
    for label, ids in (("A", a_ids), ("B", b_ids)):
        if len(set(ids)) != len(ids):
            raise ValueError(f"run {label} scores a document more than once for {task}")
    if set(a_ids) != set(b_ids):
        only_a, only_b = len(set(a_ids) - set(b_ids)), len(set(b_ids) - set(a_ids))
        raise ValueError(
            f"the runs score different documents for {task}: {only_a} only in A, {only_b} only in B"
        )
    return sorted(a_ids)


def _positions(ids: list[str], order: list[str]) -> npt.NDArray[np.intp]:
    where = {doc: i for i, doc in enumerate(ids)}
    return np.array([where[doc] for doc in order], dtype=np.intp)


def aggregate(scores: Iterable[DocumentScore]) -> dict[str, FieldMetrics]:
    """Corpus results per ``task.field``: micro P/R/F1 from summed counts, macro F1, and the
    :func:`bootstrap` interval of the F1 (1000 resamples).

    >>> from llmextract.evaluation.scorers import score_document
    >>> from llmextract.schemas import Event, Span
    >>> text = "a b c d"
    >>> s = lambda i: Span(text=text[i], start=i, end=i + 1)
    >>> doc1 = score_document("stances", [], [], text, "exact", doc_id="1")  # nothing: no macro
    >>> doc2 = score_document("events", [Event(type="AID", trigger=s(0))],
    ...                       [Event(type="AID", trigger=s(0)), Event(type="AID", trigger=s(2))],
    ...                       text, "exact", doc_id="2")
    >>> result = aggregate([doc1, doc2])
    >>> result["events.trigger"].f1, result["events.trigger"].documents
    (0.6666666666666666, 1)
    >>> result["stances.evidence"].f1, result["stances.evidence"].scored_documents
    (0.0, 0)
    """
    return ScoreTable.of(scores).aggregate()


def bootstrap(
    scores: Iterable[DocumentScore],
    key: str,
    *,
    samples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> tuple[float, float]:
    """Percentile confidence interval of a field's micro F1, resampling documents.

    Each resample draws as many documents as there are, with replacement, and sums their
    counts; the same ``seed`` gives the same interval. No documents gives ``(0.0, 0.0)``.

    >>> from llmextract.evaluation.scorers import score_document
    >>> from llmextract.schemas import Event, Span
    >>> text = "a b c d"
    >>> s = lambda i: Span(text=text[i], start=i, end=i + 1)
    >>> docs = [score_document("events", [Event(type="AID", trigger=s(i))],
    ...                        [Event(type="AID", trigger=s(i % 4))], text, "exact",
    ...                        doc_id=str(i)) for i in range(0, 7, 2)]  # right, wrong, ...
    >>> bootstrap(docs, "events.trigger", seed=1) == bootstrap(docs, "events.trigger", seed=1)
    True
    """
    table = ScoreTable.of(scores)
    return table.intervals([key], samples=samples, seed=seed, confidence=confidence)[key]


def paired_bootstrap(
    a_scores: Iterable[DocumentScore],
    b_scores: Iterable[DocumentScore],
    key: str,
    *,
    samples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> tuple[float, float, float, float]:
    """How much run B beats run A on a field: ``(delta, low, high, p_worse)``.

    ``delta`` is micro F1 of B minus that of A on all documents; ``low``/``high`` the
    percentile interval of the delta over resamples that draw the same documents for both
    runs (paired by document id); ``p_worse`` the fraction of resamples where B scores below
    A. Both runs must score the same documents, each id once.
    """
    a, b = ScoreTable.of(a_scores), ScoreTable.of(b_scores)
    return a.deltas(b, [key], samples=samples, seed=seed, confidence=confidence)[key]


def confusion(scores: Iterable[DocumentScore], field: str) -> dict[str, dict[str, int]]:
    """Gold label -> predicted label -> count, for a label field of a task (its spec's
    ``labels``: ``quotes.kind``, ``events.type``, ``stances.polarity``, a user task's);
    unmatched records appear as :data:`~.fields.MISSED` and :data:`~.fields.SPURIOUS`.

    >>> from llmextract.evaluation.scorers import score_document
    >>> from llmextract.schemas import Event, Span
    >>> text = "a b c d"
    >>> s = lambda i: Span(text=text[i], start=i, end=i + 1)
    >>> doc = score_document("events", [Event(type="AID", trigger=s(0)),
    ...                                 Event(type="AID", trigger=s(4))],
    ...                      [Event(type="AID", trigger=s(0)), Event(type="AGREE", trigger=s(2))],
    ...                      text, "exact")
    >>> confusion([doc], "events.type")
    {'AID': {'AID': 1}, 'AGREE': {'MISSED': 1}, 'SPURIOUS': {'AID': 1}}
    """
    return ScoreTable.of(scores).confusion(field)
