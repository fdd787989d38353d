"""Scoring a run as it streams: each gold document with its prediction, one at a time.

:class:`RunScorer` scores a document the moment it comes and keeps its counts (numbers, in a
:class:`~.table.ScoreTable`, and a small row for the run record), so that memory does not
hold the documents; :meth:`RunScorer.finish` makes the metrics with their bootstrap intervals.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from llmextract.evaluation import generic
from llmextract.evaluation.counts import DocumentScore, FieldMetrics
from llmextract.evaluation.fields import ARGUMENT_ROLES
from llmextract.evaluation.labels import label_scores
from llmextract.evaluation.matching import TOKEN_PATTERN, SpanCriterion
from llmextract.evaluation.predict import Prediction
from llmextract.evaluation.record import DocumentRow, LabelScores
from llmextract.evaluation.scorers import score_result
from llmextract.evaluation.table import ScoreTable
from llmextract.gold import GoldDocument
from llmextract.schemas import DocumentResult, Task, Usage
from llmextract.tasks import get_task

__all__ = ["KEEP_PREDICTIONS_UP_TO", "RunScorer", "ScoredRun"]

# Runs of up to this many documents keep each document's predictions in their record unless
# told otherwise (the HTML report shows them); larger ones keep the counts alone.
KEEP_PREDICTIONS_UP_TO = 1000


@dataclass
class ScoredRun:
    """What scoring adds to a run record."""

    metrics: dict[str, FieldMetrics]
    confusion: dict[str, dict[str, dict[str, int]]]
    labels: dict[str, LabelScores]
    prompts: dict[str, str]
    usage: Usage
    errors: int
    missing_predictions: int
    ungrounded: dict[str, int]
    mean_latency_s: float
    documents: list[DocumentRow]
    keep_predictions: bool


@dataclass
class RunScorer:
    """Scores of a run, fed one gold document and its prediction at a time.

    ``keep_predictions``: keep each document's predictions for the record; ``None`` keeps
    them while the run has at most :data:`KEEP_PREDICTIONS_UP_TO` documents.
    """

    tasks: Sequence[Task]
    criterion: SpanCriterion
    keep_predictions: bool | None = None
    roles: Sequence[str] = ARGUMENT_ROLES  # event argument roles scored; the others dropped
    seconds: float = field(default=0.0, init=False)  # spent scoring: not the system's time
    table: ScoreTable = field(default_factory=ScoreTable, init=False)
    rows: list[DocumentRow] = field(default_factory=list, init=False)
    usage: Usage = field(default_factory=Usage, init=False)
    prompts: dict[str, str] = field(default_factory=dict, init=False)
    errors: int = field(default=0, init=False)
    missing_predictions: int = field(default=0, init=False)
    ungrounded: dict[str, int] = field(default_factory=dict, init=False)
    latency: float = field(default=0.0, init=False)
    kept: bool = field(default=True, init=False)  # whether the rows hold their predictions

    def __post_init__(self) -> None:
        self.ungrounded = dict.fromkeys(self.tasks, 0)
        self.kept = self.keep_predictions is not False

    @property
    def documents(self) -> int:
        return len(self.rows)

    def add(self, gold: GoldDocument, prediction: Prediction) -> None:
        started = time.perf_counter()
        scores = _score(gold, prediction, self.tasks, self.criterion, self.roles)
        for score in scores:
            self.table.add(score)
        for task in self.tasks:
            self.ungrounded[task] += _ungrounded(gold, prediction, task)
        if prediction.result is not None:
            self.usage.add(prediction.result.usage)
            self.prompts.update(prediction.result.prompts)
        self.errors += prediction.error is not None
        self.missing_predictions += prediction.missing
        self.latency += prediction.seconds
        if self.kept and self.keep_predictions is None and self.documents == KEEP_PREDICTIONS_UP_TO:
            for row in self.rows:  # past the size that keeps them: drop those kept so far
                _strip(row)
            self.kept = False
        row = DocumentRow.model_construct(
            id=prediction.id,
            result=prediction.result,
            error=prediction.error,
            ungrounded=prediction.ungrounded,
            seconds=prediction.seconds,
            scores=scores,
        )
        if not self.kept:
            _strip(row)
        self.rows.append(row)
        self.seconds += time.perf_counter() - started

    def finish(self, *, samples: int) -> ScoredRun:
        """The metrics of every document added, with ``samples`` bootstrap resamples."""
        metrics = dict(sorted(self.table.aggregate(samples=samples).items()))
        labelled = [f"{task}.{name}" for task in self.tasks for name in get_task(task).labels]
        matrices = {f: self.table.confusion(f) for f in labelled}
        matrices = {f: matrix for f, matrix in matrices.items() if matrix}
        return ScoredRun(
            metrics=metrics,
            confusion=matrices,
            labels={f: LabelScores.model_validate(label_scores(m)) for f, m in matrices.items()},
            prompts=self.prompts,
            usage=self.usage,
            errors=self.errors,
            missing_predictions=self.missing_predictions,
            ungrounded=self.ungrounded,
            mean_latency_s=round(self.latency / max(len(self.rows), 1), 3),
            documents=self.rows,
            keep_predictions=self.kept,
        )


def _strip(row: DocumentRow) -> None:
    """Leave the predictions out of a row: what was predicted, and the labels of its pairs."""
    row.result = None
    row.ungrounded = {}
    for score in row.scores:
        score.pairs = {}


def _only_roles(
    gold: GoldDocument, result: DocumentResult | None, roles: Sequence[str]
) -> tuple[GoldDocument, DocumentResult | None]:
    """Gold and predicted events without their arguments of other roles than ``roles``."""
    dropped = [r for r in ARGUMENT_ROLES if r not in roles]
    if not dropped:
        return gold, result
    cleared = dict.fromkeys(dropped)
    gold_events = [
        e.model_copy(
            update={
                **cleared,
                "arguments": {k: v for k, v in e.arguments.items() if k.casefold() not in dropped},
            }
        )
        for e in gold.events
    ]
    scored_gold = gold.model_copy(update={"events": gold_events})
    if result is None:
        return scored_gold, None
    events = [e.model_copy(update=cleared) for e in result.events]
    return scored_gold, result.model_copy(update={"events": events})


def _score(
    gold: GoldDocument,
    prediction: Prediction,
    tasks: Sequence[Task],
    criterion: SpanCriterion,
    roles: Sequence[str] = ARGUMENT_ROLES,
) -> list[DocumentScore]:
    scored_gold, result = _only_roles(gold, prediction.result, roles)
    scores = score_result(scored_gold, result, criterion, tasks=tasks)
    # Passages a baseline gave that are not in the article are predictions too: wrong ones.
    for score in scores:
        missing = prediction.ungrounded.get(score.task, [])
        score.counts[get_task(score.task).key].fp += len(missing)
        if score.tokens is not None:
            score.tokens.pred_total += sum(len(TOKEN_PATTERN.findall(m)) for m in missing)
    return scores


def _ungrounded(gold: GoldDocument, prediction: Prediction, task: Task) -> int:
    """Passages given for ``task`` that are not in the article, plus records whose main span
    is not the article's text at its offsets (0 for llmextract, by construction; counted
    here so that a regression shows)."""
    given = len(prediction.ungrounded.get(task, []))
    return given + generic.ungrounded(gold, prediction.result, task)
