"""Each task is scored and shown as its spec declares: its scorer, its label fields (confusion
matrices) and its caption in the HTML view, the built-in tasks as any other."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from llmextract import tasks
from llmextract.evaluation.generic import iter_gold
from llmextract.evaluation.gold import load_gold
from llmextract.evaluation.predict import Prediction
from llmextract.evaluation.scorers import score_result
from llmextract.evaluation.scoring import RunScorer
from llmextract.render import ViewDocument, view_model
from llmextract.schemas import DocumentResult
from llmextract.tasks import get_task, load_task_files
from tests.conftest import GOLD, ROOT, predictions_from_gold

CLAIMS = ROOT / "examples" / "claims"


def _stances_run(tmp_path: Path) -> Any:
    """The stances of the hand-written gold scored against half of themselves."""
    path = tmp_path / "pred.jsonl"
    predictions_from_gold(path, keep=0.5)
    results = [DocumentResult.model_validate_json(line) for line in path.read_text().splitlines()]
    scorer = RunScorer(["stances"], "iou")
    for gold, result in zip(load_gold(GOLD), results, strict=True):
        scorer.add(gold, Prediction(gold.id, result))
    return scorer.finish(samples=10)


def test_a_task_is_scored_by_the_scorer_its_spec_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = _stances_run(tmp_path)
    assert "stances.target" in own.metrics  # the stances' own scorer compares targets
    generic = replace(get_task("stances"), scorer="llmextract.evaluation.generic:score_fields")
    monkeypatch.setitem(tasks._BUILTIN, "stances", generic)
    declared = _stances_run(tmp_path)
    # The per-field scorer counts the spec's spans and labels: no target, which is free text.
    assert set(declared.metrics) == {"stances.evidence", "stances.holder", "stances.polarity"}
    assert declared.metrics["stances.evidence"] == own.metrics["stances.evidence"]
    assert declared.metrics["stances.polarity"].tp == own.metrics["stances.polarity"].tp
    assert declared.confusion == own.confusion and "MISSED" in str(own.confusion)


def test_the_label_fields_a_spec_declares_get_confusion_matrices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert set(_stances_run(tmp_path).confusion) == {"stances.polarity"}
    monkeypatch.setitem(tasks._BUILTIN, "stances", replace(get_task("stances"), labels=()))
    run = _stances_run(tmp_path)
    assert run.confusion == {} and run.labels == {}
    assert "stances.polarity" in run.metrics  # still scored: only its matrix is not asked for


def test_score_result_scores_a_user_task_the_gold_lists_by_its_own_scorer() -> None:
    load_task_files([CLAIMS / "tasks.py"])
    gold = next(iter(iter_gold(CLAIMS / "gold.jsonl")))
    (score,) = score_result(gold, None, "iou")
    assert score.task == "claims"
    claims = json.loads((CLAIMS / "gold.jsonl").read_text().splitlines()[0])["claims"]
    assert score.counts["claim"].fn == len(claims) and score.counts["claim"].tp == 0
    assert set(score.counts) == {"claim", "claimant", "checkable"}


def test_the_view_captions_a_record_as_its_task_declares(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gold = load_gold(GOLD)[0]
    result = DocumentResult(
        id=gold.id, sha256="", chars=len(gold.text), model="", endpoint="", prompts={},
        quotes=gold.quotes[:1],
    )  # fmt: skip
    quote = gold.quotes[0]

    def shown() -> dict[str, Any]:
        model = view_model(ViewDocument(gold.id, gold.text, result))
        return next(r for r in model["records"] if r["task"] == "quotes")

    assert shown()["label"].endswith(quote.content.text) and "speaker" in shown()
    monkeypatch.setitem(
        tasks._BUILTIN,
        "quotes",
        replace(get_task("quotes"), caption=lambda q: (f"said: {q.content.text}", {"by": "x"})),
    )
    assert shown()["label"] == f"said: {quote.content.text}" and shown()["by"] == "x"
    monkeypatch.setitem(tasks._BUILTIN, "quotes", replace(get_task("quotes"), caption=None))
    plain = shown()
    # No caption: the record's spans and labels, as a user task's without one.
    assert plain["label"].startswith(f"content: {quote.content.text}")
    assert f"kind={quote.kind}" in plain["label"] and "speaker" not in plain
