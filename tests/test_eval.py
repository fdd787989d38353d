"""llmextract eval / compare end to end, on our hand-written gold set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmextract import InputError
from llmextract.evaluation.gold import GoldDocument, load_gold
from llmextract.testing import Reply, ScriptedServer
from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "evals" / "gold" / "handwritten.jsonl"
CONFIG = ROOT / "evals" / "configs" / "handwritten.toml"


def predictions_from_gold(path: Path, keep: float = 1.0) -> None:
    """Write the gold records themselves as predictions (the first ``keep`` share of each)."""
    lines = []
    for gold in load_gold(GOLD):
        result = {
            "id": gold.id, "sha256": "x", "chars": len(gold.text), "model": "gold",
            "endpoint": "none", "prompts": {},
            "quotes": [q.model_dump() for q in gold.quotes][: round(len(gold.quotes) * keep)],
            "events": [
                e.model_dump(exclude={"source_type", "arguments"}) for e in gold.events if e.type
            ][: round(len(gold.events) * keep)],
            "stances": [
                s.model_dump(exclude={"label"}) for s in gold.stances if s.holder
            ][: round(len(gold.stances) * keep)],
        }  # fmt: skip
        lines.append(json.dumps(result))
    path.write_text("\n".join(lines) + "\n")


def test_gold_set_loads_and_covers_every_task() -> None:
    documents = load_gold(GOLD)
    assert len(documents) == 3
    for task in ("quotes", "events", "stances"):
        assert all(getattr(d, task) for d in documents)


def test_gold_scored_against_itself_is_perfect(tmp_path: Path) -> None:
    predictions_from_gold(tmp_path / "pred.jsonl")
    done = run_cli(
        "eval",
        str(CONFIG),
        "--pred",
        str(tmp_path / "pred.jsonl"),
        "-o",
        str(tmp_path / "run.json"),
    )
    assert done.returncode == 0, done.stderr
    record = json.loads((tmp_path / "run.json").read_text())
    assert record["documents_scored"] == 3 and record["errors"] == 0
    for key in ("quotes.content", "quotes.content_token", "quotes.speaker", "events.trigger",
                "events.type", "stances.evidence", "stances.polarity"):  # fmt: skip
        assert record["metrics"][key]["f1"] == 1.0, key
        assert record["metrics"][key]["f1_ci"] == [1.0, 1.0], key
    assert record["ungrounded"] == {"quotes": 0, "events": 0, "stances": 0}
    assert "quotes.content" in done.stdout


def test_a_record_whose_text_is_not_at_its_offsets_counts_as_ungrounded(tmp_path: Path) -> None:
    pred = tmp_path / "pred.jsonl"
    predictions_from_gold(pred)
    rows = [json.loads(line) for line in pred.read_text().splitlines()]
    rows[0]["quotes"][0]["content"]["text"] = "words the article never had"
    pred.write_text("".join(json.dumps(row) + "\n" for row in rows))
    done = run_cli("eval", str(CONFIG), "--pred", str(pred), "-o", str(tmp_path / "run.json"))
    assert done.returncode == 0, done.stderr
    record = json.loads((tmp_path / "run.json").read_text())
    assert record["ungrounded"] == {"quotes": 1, "events": 0, "stances": 0}


def test_rules_baseline_runs_without_a_model_and_records_everything(tmp_path: Path) -> None:
    out, md = tmp_path / "rules.json", tmp_path / "rules.md"
    done = run_cli("eval", str(CONFIG), "--system", "rules", "-o", str(out), "--markdown", str(md))
    assert done.returncode == 0, done.stderr
    record = json.loads(out.read_text())
    assert record["system"] == "rules" and record["usage"]["requests"] == 0
    assert len(record["documents"]) == 3
    for metric in record["metrics"].values():
        low, high = metric["f1_ci"]
        assert 0.0 <= low <= high <= 1.0
    assert "| quotes.content |" in md.read_text()


def test_llmextract_and_naive_systems_against_the_scripted_server(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    for system in ("llmextract", "naive"):
        out = tmp_path / f"{system}.json"
        done = run_cli(
            "eval", str(GOLD), "--system", system, "--task", "quotes", "--base-url",
            scripted_server.url, "--model", "scripted", "-o", str(out),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        record = json.loads(out.read_text())
        assert record["tasks"] == ["quotes"]
        assert record["metrics"]["quotes.content"]["tp"] >= 3, system
        assert record["usage"]["requests"] == 3, system
        assert record["usage"]["prompt_tokens"] > 0, system
    assert len(scripted_server.requests) == 6  # one request per document and system


def test_given_spans_the_model_classifies_each_gold_phrase(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    """BASIL's task: the model is shown every gold phrase and target and gives a polarity."""
    decide = [  # gold polarities per document, in gold order, are in the comments
        ["oppose", "oppose", "neutral"],  # oppose, support, support
        ["oppose", "support"],  # oppose, oppose
        ["support", "oppose"],  # support, oppose (these two share their evidence)
    ]
    scripted_server.enqueue(
        *(Reply(arguments={"decisions": [{"polarity": p} for p in doc]}) for doc in decide)
    )
    out = tmp_path / "run.json"
    done = run_cli(
        "eval", str(GOLD), "--task", "stances", "--given-spans", "--criterion", "exact",
        "--concurrency", "1", "--base-url", scripted_server.url, "--model", "scripted",
        "-o", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    for request, gold in zip(scripted_server.requests, load_gold(GOLD), strict=True):
        prompt = json.dumps(request.body, ensure_ascii=False)
        for stance in gold.stances:  # every gold phrase and target is offered
            assert stance.target in prompt
            assert " ".join(stance.evidence.text.split())[:40] in prompt
    labels = json.loads(out.read_text())["labels"]["stances.polarity"]
    # oppose: 3 right of 4 gold, 4 predicted; support: 1 right of 3 gold, 2 predicted;
    # neutral is no gold class, so it is only a wrong answer
    assert labels["per_class"]["oppose"] == {
        "precision": 0.75, "recall": 0.75, "f1": 0.75, "support": 4,
    }  # fmt: skip
    assert labels["per_class"]["support"]["f1"] == 0.4
    assert labels["macro_f1"] == 0.575
    assert "macro F1 0.575" in done.stdout
    refused = run_cli("eval", str(GOLD), "--task", "quotes", "--given-spans", "--system", "rules")
    assert refused.returncode == 1 and "--task stances" in refused.stderr


def test_compare_flags_a_significant_regression(tmp_path: Path) -> None:
    predictions_from_gold(tmp_path / "good.jsonl")
    predictions_from_gold(tmp_path / "bad.jsonl", keep=0.0)
    for name in ("good", "bad"):
        pred, out = tmp_path / f"{name}.jsonl", tmp_path / f"{name}-run.json"
        done = run_cli("eval", str(CONFIG), "--pred", str(pred), "-o", str(out))
        assert done.returncode == 0, done.stderr
    good, bad = str(tmp_path / "good-run.json"), str(tmp_path / "bad-run.json")
    worse = run_cli("compare", good, bad, "--fail-if-worse", "quotes.content")
    assert worse.returncode == 1
    assert "| quotes.content | 1.000 | 0.000 | -1.000 |" in worse.stdout
    assert "significantly worse" in worse.stderr
    better = run_cli("compare", bad, good, "--fail-if-worse", "quotes.content")
    assert better.returncode == 0, better.stderr
    assert "better" in better.stdout
    unknown = run_cli("compare", good, bad, "--fail-if-worse", "quotes.nonsense")
    assert unknown.returncode == 2


def test_compare_refuses_runs_on_different_documents(tmp_path: Path) -> None:
    predictions_from_gold(tmp_path / "p.jsonl")
    for name, extra in (("all", []), ("one", ["--limit", "1"])):
        out = tmp_path / f"{name}.json"
        pred = str(tmp_path / "p.jsonl")
        done = run_cli("eval", str(CONFIG), "--pred", pred, "-o", str(out), *extra)
        assert done.returncode == 0, done.stderr
    done = run_cli("compare", str(tmp_path / "all.json"), str(tmp_path / "one.json"))
    assert done.returncode == 1 and "different documents" in done.stderr


def test_malformed_gold_is_reported_with_file_and_line(tmp_path: Path) -> None:
    good = GOLD.read_text(encoding="utf-8").splitlines()[0]
    broken = json.loads(good)
    broken["quotes"][0]["content"]["start"] += 1
    path = tmp_path / "gold.jsonl"
    path.write_text(good + "\n" + json.dumps(broken) + "\n")
    with pytest.raises(InputError, match=r"gold\.jsonl:2: .*quotes\[0\]\.content"):
        load_gold(path)
    path.write_text(good + "\n" + good + "\n")
    with pytest.raises(InputError, match=r"gold\.jsonl:2: duplicate document id"):
        load_gold(path)
    path.write_text("{not json\n")
    done = run_cli("eval", str(path))
    assert done.returncode == 1 and "gold.jsonl:1" in done.stderr


def test_a_task_the_gold_does_not_annotate_is_not_scored() -> None:
    document = GoldDocument(id="d", text="Ann said hi.", tasks=["quotes"])
    from llmextract.evaluation.metrics import score_result
    from llmextract.schemas import DocumentResult

    empty = DocumentResult(id="d", sha256="", chars=12, model="", endpoint="", prompts={})
    assert [s.task for s in score_result(document, empty, "iou")] == ["quotes"]


def test_sweep_runs_each_prompt_version_and_names_the_best(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    done = run_cli(
        "sweep", str(CONFIG), "--prompt", "v1", "--prompt", "v2", "--metric", "quotes.content",
        "--base-url", scripted_server.url, "--model", "scripted", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("v1 ") and "quotes.v1@" in lines[0]
    assert lines[1].startswith("v2 ") and "quotes.v2@" in lines[1]
    assert lines[-1].startswith("best: v")
    assert len(list((tmp_path / "runs").glob("*.json"))) == 2
