"""HTML reports of eval runs and comparisons: charts with confidence intervals, and each
document's gold beside the predictions with matches, misses and false positives marked.

Pure: run records and gold documents in, a self-contained page out (see
:mod:`llmextract.render` for how text is kept from ever becoming markup).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llmextract.errors import InputError
from llmextract.evaluation.compare import Comparison
from llmextract.evaluation.generic import key_spans
from llmextract.evaluation.matching import SpanCriterion, match
from llmextract.evaluation.record import RunRecord
from llmextract.gold import GoldDocument
from llmextract.render import page
from llmextract.schemas import DocumentResult
from llmextract.tasks import task_names

__all__ = ["compare_html", "eval_html"]


def _metrics(run: RunRecord) -> list[dict[str, Any]]:
    return [
        {"key": key, "p": m.precision, "r": m.recall, "f1": m.f1, "low": m.f1_ci[0],
         "high": m.f1_ci[1], "tp": m.tp, "fp": m.fp, "fn": m.fn}
        for key, m in run.metrics.items()
    ]  # fmt: skip


def _marked(
    gold: GoldDocument, result: DocumentResult | None, criterion: SpanCriterion
) -> dict[str, Any]:
    """The document's gold and predicted primary spans, each marked by how it matched."""
    gold_marks: list[dict[str, Any]] = []
    pred_marks: list[dict[str, Any]] = []
    for task in (t for t in task_names() if t in gold.tasks):  # in the tasks' order
        preds, golds = key_spans(task, gold, result)
        pairs = match(preds, golds, gold.text, criterion)
        matched_pred = {p for p, _ in pairs}
        matched_gold = {g for _, g in pairs}
        for i, span in enumerate(golds):
            status = "match" if i in matched_gold else "miss"
            gold_marks.append({"task": task, "start": span.start, "end": span.end,
                               "status": status})  # fmt: skip
        for i, span in enumerate(preds):
            status = "match" if i in matched_pred else "fp"
            pred_marks.append({"task": task, "start": span.start, "end": span.end,
                               "status": status})  # fmt: skip
    return {"id": gold.id, "text": gold.text, "gold": gold_marks, "pred": pred_marks}


def eval_html(run: RunRecord, golds: Sequence[GoldDocument]) -> str:
    """The report of one eval run over ``golds`` (the documents it scored)."""
    if not run.settings.keep_predictions:
        raise InputError(
            f"run {run.name} left each document's predictions out of its record "
            f"({run.documents_scored} documents), and the HTML report shows them: run eval "
            "again with --keep-predictions"
        )
    results = {row.id: row.result for row in run.documents}
    title = f"{run.name}: {run.documents_scored} documents, {run.criterion}"
    data = {
        "kind": "eval",
        "title": title,
        "subtitle": f"system {run.system}, model {run.model}, prompts "
        + ", ".join(run.prompts.values()),
        "metrics": _metrics(run),
        "documents": [_marked(g, results.get(g.id), run.criterion) for g in golds],
    }
    return page(title, data, "report.js")


def compare_html(a: RunRecord, b: RunRecord, comparison: Comparison) -> str:
    """The report of ``llmextract compare A B``: per-metric deltas with their intervals."""
    rows = [
        {"key": r.metric, "a": r.a, "b": r.b, "delta": r.delta, "low": r.ci[0],
         "high": r.ci[1], "worse": r.significantly_worse, "better": r.significantly_better,
         "flipped": [f"{f.id} {f.a:.2f}→{f.b:.2f}" for f in r.flipped[:10]]}
        for r in comparison.rows
    ]  # fmt: skip
    title = f"{a.name} (A) vs {b.name} (B)"
    data = {
        "kind": "compare",
        "title": title,
        "subtitle": f"F1 change B - A with paired-bootstrap 95% intervals; "
        f"A: {a.system} {a.model}; B: {b.system} {b.model}",
        "rows": rows,
    }
    return page(title, data, "report.js")
