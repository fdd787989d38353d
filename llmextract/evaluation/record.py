"""The run record of ``llmextract eval``: its types, and the one place it is written and read.

A run record is one JSON object (``"kind": "llmextract-eval-run"``): every setting, the
prompt ids, the model, each document's counts (and its predictions, unless the run left them
out: ``settings.keep_predictions``), token usage, wall time, and per-field metrics with
bootstrap confidence intervals over documents. Records written by earlier versions load too:
the keys they lack take their defaults.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, Field, ValidationError

from llmextract.errors import InputError
from llmextract.evaluation.counts import DocumentScore, FieldMetrics
from llmextract.evaluation.matching import SpanCriterion
from llmextract.evaluation.table import ScoreTable
from llmextract.schemas import DocumentResult, Task, Usage

__all__ = [
    "KIND",
    "ClassScores",
    "DocumentRow",
    "LabelScores",
    "RunRecord",
    "RunSettings",
    "default_run_path",
    "load",
    "save",
    "to_markdown",
]

KIND: Final = "llmextract-eval-run"


class ClassScores(BaseModel):
    precision: float
    recall: float
    f1: float
    support: int


class LabelScores(BaseModel):
    """Per-class P/R/F1 of a label field and their macro mean (:func:`~.labels.label_scores`)."""

    per_class: dict[str, ClassScores]
    macro_f1: float


class RunSettings(BaseModel):
    prompt: str | None
    limit: int | None
    concurrency: int
    max_reasks: int
    temperature: float
    mode: str
    prompt_style: str
    bootstrap_samples: int
    examples: str | None = None
    shots: int = 0
    seed: int = 0
    given_spans: bool = False
    # False: the documents hold their counts only, not what was predicted.
    keep_predictions: bool = True
    # The event argument roles scored (the config's ``roles``); empty in older records: all.
    roles: list[str] = Field(default_factory=list)


class DocumentRow(BaseModel):
    """One gold document: what was predicted for it (unless left out) and its counts per task."""

    id: str
    result: DocumentResult | None = None
    error: str | None = None
    ungrounded: dict[str, list[str]] = Field(default_factory=dict)
    seconds: float = 0.0
    scores: list[DocumentScore] = Field(default_factory=list)


class RunRecord(BaseModel):
    kind: Literal["llmextract-eval-run"] = KIND
    name: str
    created: str
    system: str
    gold: str
    gold_sha256: str
    documents_scored: int
    tasks: list[Task]
    criterion: SpanCriterion
    model: str
    endpoint: str
    settings: RunSettings
    wall_seconds: float
    # Throughput: the wall time of the whole run per document.
    seconds_per_document: float
    metrics: dict[str, FieldMetrics]
    confusion: dict[str, dict[str, dict[str, int]]] = Field(default_factory=dict)
    labels: dict[str, LabelScores] = Field(default_factory=dict)
    prompts: dict[str, str] = Field(default_factory=dict)
    usage: Usage = Field(default_factory=Usage)
    errors: int = 0
    # Gold documents that a predictions file (--pred) had no prediction for: scored as
    # predicting nothing, so they count as misses. Included in ``errors``.
    missing_predictions: int = 0
    # Records not in the article at their offsets, per task (None: a record from before).
    ungrounded: dict[str, int] | None = None
    # Time from a document's start to its end, queueing behind others included.
    mean_latency_s: float | None = None
    documents: list[DocumentRow]

    def coverage(self) -> str | None:
        """What was scored, when a predictions file did not cover every gold document."""
        if not self.missing_predictions:
            return None
        predicted = self.documents_scored - self.missing_predictions
        return (
            f"{self.documents_scored} gold documents scored: {predicted} with a prediction, "
            f"{self.missing_predictions} without one (scored as predicting nothing, so every "
            "record of theirs is a miss); to score only the predicted documents, give a gold "
            "file that holds just those, or --limit N if they come first"
        )

    def scores(self) -> Iterator[DocumentScore]:
        for row in self.documents:
            yield from row.scores

    def table(self) -> ScoreTable:
        """The per-document counts, ready for intervals and paired comparisons."""
        return ScoreTable.of(self.scores())


def save(record: RunRecord, path: Path) -> None:
    """Write ``record`` to ``path`` (0600, through a temporary file and a rename, so that a
    crash never leaves half a record)."""
    left_out: Any = None
    if not record.settings.keep_predictions:
        left_out = {"documents": {"__all__": {"result", "ungrounded"}}}
    text = record.model_dump_json(indent=1, exclude=left_out)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text + "\n")
    os.replace(temporary, path)


def load(path: Path) -> RunRecord:
    """The run record in ``path``; :class:`InputError` for anything else."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(f"{path}: not a readable run record ({error})") from None
    try:
        return RunRecord.model_validate_json(data)
    except ValidationError as error:
        first = error.errors()[0]
        if first["type"] == "json_invalid":
            raise InputError(
                f"{path}: not a readable run record (not JSON: {first['msg']}); give the "
                "file llmextract eval wrote"
            ) from None
        if first["loc"] in ((), ("kind",)):
            raise InputError(
                f"{path}: not an llmextract eval run record; give the file llmextract eval wrote"
            ) from None
        where = ".".join(str(part) for part in first["loc"])
        raise InputError(
            f"{path}: a run record with a bad {where} ({first['msg']}); run llmextract eval "
            "again to write a new one"
        ) from None


def default_run_path(record: RunRecord, folder: Path = Path("runs")) -> Path:
    stamp = record.created.replace(":", "").replace("-", "")[:15]
    return folder / f"{stamp}-{record.name}.json"


def to_markdown(record: RunRecord) -> str:
    """The metrics table of a run record as Markdown."""
    lines = [
        f"Run `{record.name}`: system {record.system}, model {record.model}, "
        f"{record.documents_scored} documents, criterion {record.criterion}, "
        f"{record.seconds_per_document} s/document",
        "",
        "| metric | P | R | F1 | 95% CI | macro F1 | tp | fp | fn |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for key, m in record.metrics.items():
        low, high = m.f1_ci
        lines.append(
            f"| {key} | {m.precision:.3f} | {m.recall:.3f} | {m.f1:.3f} | "
            f"{low:.3f} to {high:.3f} | {m.macro_f1:.3f} | {m.tp} | {m.fp} | {m.fn} |"
        )
    if record.ungrounded is not None:
        counts = ", ".join(f"{task} {n}" for task, n in record.ungrounded.items())
        lines += ["", f"Records not in the article (counted as false positives): {counts}"]
    return "\n".join(lines) + "\n"
