"""llmextract eval / compare end to end, on our hand-written gold set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmextract import InputError
from llmextract.evaluation import scoring
from llmextract.evaluation.compare import compare_runs
from llmextract.evaluation.gold import GoldDocument, load_gold
from llmextract.evaluation.html import eval_html
from llmextract.evaluation.record import load
from llmextract.evaluation.run import load_eval_config, run_eval
from llmextract.settings import Settings
from llmextract.testing import Reply, ScriptedServer
from tests.conftest import GOLD, ROOT, predictions_from_gold, run_cli

CONFIG = ROOT / "evals" / "configs" / "handwritten.toml"


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
    from llmextract.evaluation.scorers import score_result
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


# --- run records ------------------------------------------------------------------------

# A run record written before the record had types (rules baseline on the hand-written set).
OLD_RECORD = ROOT / "tests" / "fixtures" / "eval" / "handwritten-rules-run.json"


def test_a_record_written_before_loads_and_its_predictions_score_the_same(tmp_path: Path) -> None:
    old = load(OLD_RECORD)
    assert old.documents_scored == 3 and old.settings.keep_predictions
    assert old.metrics["quotes.content"].f1_ci == tuple(
        json.loads(OLD_RECORD.read_text())["metrics"]["quotes.content"]["f1_ci"]
    )
    pred = tmp_path / "pred.jsonl"
    pred.write_text(
        "".join(row.result.model_dump_json() + "\n" for row in old.documents if row.result)
    )
    out = tmp_path / "run.json"
    done = run_cli("eval", str(CONFIG), "--pred", str(pred), "-o", str(out))
    assert done.returncode == 0, done.stderr
    new = load(out)
    assert new.metrics == old.metrics  # every count, F1 and interval
    assert new.confusion == old.confusion and new.labels == old.labels
    assert [r.scores for r in new.documents] == [r.scores for r in old.documents]
    same = run_cli("compare", str(OLD_RECORD), str(out))
    assert same.returncode == 0, same.stderr
    assert "| quotes.content | 0.714 | 0.714 | +0.000 | +0.000 to +0.000 | 0.00 |" in same.stdout
    comparison = compare_runs(old, new)
    assert {row.verdict for row in comparison.rows} == {"no clear change"}


def test_what_is_not_a_run_record_is_refused_in_one_line(tmp_path: Path) -> None:
    cases = {
        "broken.json": ("{not json", "not a readable run record"),
        "list.json": ("[1, 2]", "not an llmextract eval run record"),
        "other.json": ('{"kind": "something-else"}', "not an llmextract eval run record"),
        "bad.json": (
            OLD_RECORD.read_text().replace('"documents_scored": 3', '"documents_scored": "x"'),
            "a run record with a bad documents_scored",
        ),
    }
    for name, (text, message) in cases.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(InputError, match=message):
            load(tmp_path / name)
        done = run_cli("compare", str(tmp_path / name), str(OLD_RECORD))
        assert done.returncode == 1 and message in done.stderr, name
        assert "Traceback" not in done.stderr
    with pytest.raises(InputError, match="not a readable run record"):
        load(tmp_path / "absent.json")


def test_a_record_without_predictions_keeps_the_counts_compare_needs(tmp_path: Path) -> None:
    pred = tmp_path / "pred.jsonl"
    predictions_from_gold(pred, keep=0.5)
    full, lean = tmp_path / "full.json", tmp_path / "lean.json"
    for out, extra in ((full, []), (lean, ["--no-predictions"])):
        done = run_cli("eval", str(CONFIG), "--pred", str(pred), "-o", str(out), *extra)
        assert done.returncode == 0, done.stderr
    on_disk = json.loads(lean.read_text())
    assert on_disk["settings"]["keep_predictions"] is False
    assert all("result" not in row and "ungrounded" not in row for row in on_disk["documents"])
    assert on_disk["metrics"] == json.loads(full.read_text())["metrics"]
    both = [run_cli("compare", str(OLD_RECORD), str(out)) for out in (full, lean)]
    assert both[0].returncode == both[1].returncode == 0
    assert both[0].stdout == both[1].stdout  # the same table and flipped documents
    with pytest.raises(InputError, match="--keep-predictions"):
        eval_html(load(lean), load_gold(GOLD))
    refused = run_cli(
        "eval", str(CONFIG), "--pred", str(pred), "--no-predictions", "--html",
        str(tmp_path / "r.html"), "-o", str(tmp_path / "x.json"),
    )  # fmt: skip
    assert refused.returncode == 1 and "drop --no-predictions" in refused.stderr


def test_predictions_are_left_out_past_a_size_unless_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pred = tmp_path / "pred.jsonl"
    predictions_from_gold(pred)
    monkeypatch.setattr(scoring, "KEEP_PREDICTIONS_UP_TO", 2)
    settings = Settings.from_env(base_url="http://127.0.0.1:9/v1", model="none")
    lean = run_eval(load_eval_config(CONFIG), settings=settings, predictions_file=pred)
    assert not lean.settings.keep_predictions
    assert all(row.result is None and not row.scores[0].pairs for row in lean.documents)
    assert lean.confusion["quotes.kind"]  # counted before the pairs were dropped
    kept = run_eval(
        load_eval_config(CONFIG, keep_predictions=True), settings=settings, predictions_file=pred
    )
    assert kept.settings.keep_predictions and all(row.result for row in kept.documents)
    assert kept.metrics == lean.metrics and kept.confusion == lean.confusion
    monkeypatch.setattr(scoring, "KEEP_PREDICTIONS_UP_TO", 3)
    small = run_eval(load_eval_config(CONFIG), settings=settings, predictions_file=pred)
    assert small.settings.keep_predictions and all(row.result for row in small.documents)


def test_predictions_in_any_order_with_extras_gaps_and_repeats(tmp_path: Path) -> None:
    """Scoring reads the predictions file as it goes; what it scores does not depend on the
    file's order: predictions for other documents are left out, a document without one is
    an error, and of two lines for a document the last counts."""
    perfect = tmp_path / "perfect.jsonl"
    predictions_from_gold(perfect)
    empty = tmp_path / "empty.jsonl"
    predictions_from_gold(empty, keep=0.0)
    first, _, third = perfect.read_text().splitlines()
    stale_first, _, stale_third = empty.read_text().splitlines()  # nothing found in them
    stranger = json.dumps({**json.loads(first), "id": "not-in-gold"})
    clean, shuffled = tmp_path / "clean.jsonl", tmp_path / "shuffled.jsonl"
    clean.write_text(f"{first}\n{third}\n")
    # The first document's stale line comes first, so it is scored before its last line is
    # read; the third's two lines both come before it is scored.
    shuffled.write_text(f"{stale_first}\n{stale_third}\n{stranger}\n{third}\n{first}\n")
    records = []
    for pred in (clean, shuffled):
        out = tmp_path / f"{pred.stem}.json"
        done = run_cli("eval", str(CONFIG), "--pred", str(pred), "-o", str(out))
        assert done.returncode == 0, done.stderr
        records.append(load(out))
    assert records[0].errors == records[1].errors == 1  # the second document has none
    assert [row.error for row in records[1].documents][1].startswith(
        "no prediction for this document"
    )
    assert records[1].metrics == records[0].metrics
    assert [r.scores for r in records[1].documents] == [r.scores for r in records[0].documents]


def test_predictions_for_some_documents_say_what_was_scored_and_what_was_missing(
    tmp_path: Path,
) -> None:
    predictions_from_gold(tmp_path / "all.jsonl")
    first = (tmp_path / "all.jsonl").read_text().splitlines()[0]
    (tmp_path / "pred.jsonl").write_text(first + "\n")
    done = run_cli("eval", str(CONFIG), "--pred", str(tmp_path / "pred.jsonl"),
                   "-o", str(tmp_path / "run.json"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    record = json.loads((tmp_path / "run.json").read_text())
    assert record["documents_scored"] == 3 and record["missing_predictions"] == 2
    said = " ".join(done.stdout.split())
    assert "3 gold documents scored: 1 with a prediction, 2 without one" in said
    assert "every record of theirs is a miss" in said
    # Complete predictions say nothing of the kind.
    done = run_cli("eval", str(CONFIG), "--pred", str(tmp_path / "all.jsonl"),
                   "-o", str(tmp_path / "all-run.json"))  # fmt: skip
    assert "without one" not in done.stdout
    assert json.loads((tmp_path / "all-run.json").read_text())["missing_predictions"] == 0


def test_predictions_nested_too_deeply_are_an_input_error(tmp_path: Path) -> None:
    """A predictions line nested deeper than Python's recursion allows is bad JSON: one
    error line naming it, not a traceback."""
    pred = tmp_path / "pred.jsonl"
    pred.write_text("[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    done = run_cli("eval", str(GOLD), "--pred", str(pred), "-o", str(tmp_path / "run.json"))
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert f"{pred}:1: not valid JSON" in " ".join(done.stderr.split())


def test_config_roles_leave_an_unannotated_role_out_of_the_argument_scores(
    tmp_path: Path,
) -> None:
    def metrics(roles: str) -> dict[str, dict[str, float]]:
        config = tmp_path / "events.toml"
        config.write_text(f'gold = "{GOLD}"\ntasks = ["events"]\nsystem = "rules"\n{roles}\n')
        out = tmp_path / "run.json"
        done = run_cli("eval", str(config), "--no-cache", "-o", str(out))
        assert done.returncode == 0, done.stderr
        record = json.loads(out.read_text())
        assert record["settings"]["roles"] == (
            ["actor", "recipient", "location"]
            if roles
            else ["actor", "recipient", "location", "time"]
        )
        return record["metrics"]  # type: ignore[no-any-return]

    every = metrics("")
    some = metrics('roles = ["actor", "recipient", "location"]')
    time, others = every["events.arg:time"], ("actor", "recipient", "location")
    assert time["tp"] + time["fp"] + time["fn"] > 0  # the rules find times the gold has
    assert some["events.arg:time"]["tp"] + some["events.arg:time"]["fp"] == 0
    for role in others:
        assert some[f"events.arg:{role}"] == every[f"events.arg:{role}"]
    pooled = {k: sum(some[f"events.arg:{r}"][k] for r in others) for k in ("tp", "fp", "fn")}
    assert pooled["tp"] == some["events.arguments"]["tp"]
    assert some["events.arguments"]["fp"] < every["events.arguments"]["fp"]
    wrong = tmp_path / "wrong.toml"
    wrong.write_text(f'gold = "{GOLD}"\ntasks = ["events"]\nroles = ["when"]\n')
    refused = run_cli("eval", str(wrong), "--system", "rules")
    assert refused.returncode != 0
    assert "unknown argument roles ['when']" in refused.stderr
