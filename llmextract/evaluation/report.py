"""Run records: score predictions against gold, with confidence intervals, and compare runs.

A run record is one JSON object: every setting, the prompt ids, the model, per-document
predictions and counts, token usage, wall time, and per-field metrics with bootstrap
confidence intervals over documents. ``compare_runs`` pairs two records by document.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from llmextract.errors import InputError
from llmextract.evaluation.gold import GoldDocument
from llmextract.evaluation.matching import TOKEN_PATTERN, SpanCriterion
from llmextract.evaluation.metrics import (
    Counts,
    DocumentScore,
    TokenCounts,
    aggregate,
    bootstrap,
    confusion,
    label_scores,
    paired_bootstrap,
    score_result,
)
from llmextract.evaluation.predict import Prediction
from llmextract.schemas import DocumentResult, Task, Usage

__all__ = ["compare_runs", "document_scores", "score_run", "to_markdown"]

# The field whose false positives an ungrounded prediction adds to, per task.
_PRIMARY_FIELD = {"quotes": "content", "events": "trigger", "stances": "evidence"}
_CONFUSION_FIELDS = ("quotes.kind", "events.type", "stances.polarity")


def _empty(gold: GoldDocument) -> DocumentResult:
    return DocumentResult(
        id=gold.id, sha256="", chars=len(gold.text), model="", endpoint="", prompts={}
    )


def _score(
    gold: GoldDocument, prediction: Prediction, tasks: Sequence[Task], criterion: SpanCriterion
) -> list[DocumentScore]:
    scores = score_result(gold, prediction.result or _empty(gold), criterion, tasks=tasks)
    # Passages a baseline gave that are not in the article are predictions too: wrong ones.
    for score in scores:
        missing = prediction.ungrounded.get(score.task, [])
        score.counts[_PRIMARY_FIELD[score.task]].fp += len(missing)
        if score.tokens is not None:
            score.tokens.pred_total += sum(len(TOKEN_PATTERN.findall(m)) for m in missing)
    return scores


def _ungrounded(gold: GoldDocument, prediction: Prediction, task: Task) -> int:
    """Passages given for ``task`` that are not in the article, plus records whose main span
    is not the article's text at its offsets (0 for llmextract, by construction; counted
    here so that a regression shows)."""
    count = len(prediction.ungrounded.get(task, []))
    records = [] if prediction.result is None else getattr(prediction.result, task)
    for record in records:
        span = getattr(record, _PRIMARY_FIELD[task])
        count += gold.text[span.start : span.end] != span.text
    return count


def score_run(
    golds: Sequence[GoldDocument],
    predictions: Sequence[Prediction],
    *,
    tasks: Sequence[Task],
    criterion: SpanCriterion,
    samples: int = 1000,
) -> dict[str, Any]:
    """Metrics, confusion matrices and per-document rows of a finished run."""
    by_id = {p.id: p for p in predictions}
    scores: list[DocumentScore] = []
    rows = []
    ungrounded = dict.fromkeys(tasks, 0)
    for gold in golds:
        prediction = by_id[gold.id]
        document_scores = _score(gold, prediction, tasks, criterion)
        scores.extend(document_scores)
        for task in tasks:
            ungrounded[task] += _ungrounded(gold, prediction, task)
        rows.append(
            {
                **prediction.to_json(),
                "scores": [dataclasses.asdict(s) for s in document_scores],
            }
        )
    metrics = {}
    for key, result in sorted(aggregate(scores).items()):
        low, high = bootstrap(scores, key, samples=samples)
        metrics[key] = {**dataclasses.asdict(result), "f1_ci": [round(low, 4), round(high, 4)]}
    usage = Usage()
    for prediction in predictions:
        if prediction.result is not None:
            usage.add(prediction.result.usage)
    prompts: dict[str, str] = {}
    for prediction in predictions:
        if prediction.result is not None:
            prompts.update(prediction.result.prompts)
    matrices = {f: confusion(scores, f) for f in _CONFUSION_FIELDS if _has(scores, f)}
    return {
        "metrics": metrics,
        "confusion": matrices,
        "labels": {f: label_scores(matrix) for f, matrix in matrices.items()},
        "prompts": prompts,
        "usage": usage.model_dump(),
        "errors": sum(p.error is not None for p in predictions),
        "ungrounded": ungrounded,
        # Time from a document's start to its end, queueing behind others included.
        "mean_latency_s": round(sum(p.seconds for p in predictions) / max(len(predictions), 1), 3),
        "documents": rows,
    }


def _has(scores: Sequence[DocumentScore], key: str) -> bool:
    task, _, name = key.partition(".")
    return any(s.task == task and s.pairs.get(name) for s in scores)


def document_scores(run: dict[str, Any]) -> list[DocumentScore]:
    """The per-document scores stored in a run record."""
    scores = []
    for row in run["documents"]:
        for item in row["scores"]:
            tokens = item.get("tokens")
            scores.append(
                DocumentScore(
                    id=item["id"],
                    task=item["task"],
                    counts={k: Counts(**v) for k, v in item["counts"].items()},
                    tokens=None if tokens is None else TokenCounts(**tokens),
                    pairs={k: [tuple(p) for p in v] for k, v in item["pairs"].items()},
                )
            )
    return scores


def compare_runs(a: dict[str, Any], b: dict[str, Any], *, samples: int = 1000) -> dict[str, Any]:
    """Per-metric F1 deltas (B - A) with paired-bootstrap intervals, and flipped documents."""
    a_scores, b_scores = document_scores(a), document_scores(b)
    a_ids = {s.id for s in a_scores}
    b_ids = {s.id for s in b_scores}
    if a_ids != b_ids:
        raise InputError(
            f"the runs scored different documents ({len(a_ids)} vs {len(b_ids)}, "
            f"{len(a_ids ^ b_ids)} differ): compare runs made on the same gold file and --limit"
        )
    rows = []
    for key in sorted(set(a["metrics"]) & set(b["metrics"])):
        task = key.split(".")[0]
        delta, low, high, p_worse = paired_bootstrap(
            [s for s in a_scores if s.task == task],
            [s for s in b_scores if s.task == task],
            key,
            samples=samples,
        )
        rows.append(
            {
                "metric": key,
                "a": a["metrics"][key]["f1"],
                "b": b["metrics"][key]["f1"],
                "delta": round(delta, 4),
                "ci": [round(low, 4), round(high, 4)],
                "p_worse": round(p_worse, 4),
                "significantly_worse": high < 0,
                "significantly_better": low > 0,
                "flipped": _flipped(a_scores, b_scores, key),
            }
        )
    return {"a": a.get("name", ""), "b": b.get("name", ""), "rows": rows}


def _flipped(a: list[DocumentScore], b: list[DocumentScore], key: str) -> list[dict[str, Any]]:
    """Documents whose F1 on ``key`` changed, worst change first."""
    task, _, name = key.partition(".")

    def f1(score: DocumentScore) -> float | None:
        if name == "content_token":
            return None if score.tokens is None else score.tokens.f1
        counts = score.counts.get(name)
        return None if counts is None or counts.total == 0 else counts.f1

    before = {s.id: f1(s) for s in a if s.task == task}
    after = {s.id: f1(s) for s in b if s.task == task}
    changed = []
    for doc in before:
        was, now = before[doc] or 0.0, after.get(doc) or 0.0
        if abs(now - was) > 1e-9:
            changed.append((now - was, {"id": doc, "a": round(was, 4), "b": round(now, 4)}))
    return [row for _, row in sorted(changed, key=lambda pair: pair[0])[:20]]


def gold_digest(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def to_markdown(run: dict[str, Any]) -> str:
    """The metrics table of a run record as Markdown."""
    lines = [
        f"Run `{run.get('name', '')}`: system {run.get('system')}, model {run.get('model')}, "
        f"{run.get('documents_scored')} documents, criterion {run.get('criterion')}, "
        f"{run.get('seconds_per_document')} s/document",
        "",
        "| metric | P | R | F1 | 95% CI | macro F1 | tp | fp | fn |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for key, m in run["metrics"].items():
        low, high = m["f1_ci"]
        lines.append(
            f"| {key} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | "
            f"{low:.3f} to {high:.3f} | {m['macro_f1']:.3f} | {m['tp']} | {m['fp']} | {m['fn']} |"
        )
    if "ungrounded" in run:
        counts = ", ".join(f"{task} {n}" for task, n in run["ungrounded"].items())
        lines += ["", f"Records not in the article (counted as false positives): {counts}"]
    return "\n".join(lines) + "\n"


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")[:60] or "run"
