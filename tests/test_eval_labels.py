"""The eval config's ``labels`` key: the polarities a given stance may take, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from llmextract.candidates import phrase_polarity
from llmextract.evaluation.gold import load_gold
from llmextract.testing import Reply, ScriptedServer
from tests.conftest import GOLD, run_cli


def _config(tmp_path: Path, extra: str) -> Path:
    config = tmp_path / "polarity.toml"
    config.write_text(
        f'gold = "{GOLD}"\ntasks = ["stances"]\ncriterion = "exact"\n{extra}\n', encoding="utf-8"
    )
    return config


def _polarities(document: dict[str, Any]) -> list[tuple[int, str]]:
    stances = document["result"]["stances"]
    return sorted((s["evidence"]["start"], s["polarity"]) for s in stances)


def test_labels_restrict_the_model_answers_to_the_listed_polarities(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    golds = load_gold(GOLD)
    answers = [["neutral"] * len(gold.stances) for gold in golds]
    scripted_server.enqueue(
        *(Reply(arguments={"decisions": [{"polarity": p} for p in doc]}) for doc in answers)
    )
    config = _config(tmp_path, 'given_spans = true\nlabels = ["support", "oppose"]')
    out = tmp_path / "run.json"
    done = run_cli(
        "eval", str(config), "--concurrency", "1", "--base-url", scripted_server.url,
        "--model", "scripted", "-o", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    record = json.loads(out.read_text())
    for document, gold in zip(record["documents"], golds, strict=True):
        got = _polarities(document)
        # every "neutral" was replaced by the phrase's lexicon polarity, and said so
        assert got == sorted(
            (s.evidence.start, phrase_polarity(s.evidence.text)) for s in gold.stances
        )
        notes = json.dumps(document["result"]["corrected"])
        assert "polarity neutral was not offered" in notes
    assert "neutral" not in json.dumps(record["confusion"]["stances.polarity"])


def test_rules_classify_given_phrases_by_their_lexicon_polarity(tmp_path: Path) -> None:
    config = _config(tmp_path, 'given_spans = true\nlabels = ["support", "oppose"]')
    out = tmp_path / "run.json"
    done = run_cli("eval", str(config), "--system", "rules", "-o", str(out))
    assert done.returncode == 0, done.stderr
    record = json.loads(out.read_text())
    for document, gold in zip(record["documents"], load_gold(GOLD), strict=True):
        got = _polarities(document)
        assert got == sorted(
            (s.evidence.start, phrase_polarity(s.evidence.text)) for s in gold.stances
        )
    assert record["labels"]["stances.polarity"]["macro_f1"] >= 0


def test_unknown_or_misplaced_labels_are_refused_with_the_fix(tmp_path: Path) -> None:
    bad = run_cli("eval", str(_config(tmp_path, 'given_spans = true\nlabels = ["pro"]')))
    assert bad.returncode == 1 and "unknown stance labels ['pro']" in bad.stderr
    alone = run_cli("eval", str(_config(tmp_path, 'labels = ["support", "oppose"]')))
    assert alone.returncode == 1 and "add given_spans = true" in alone.stderr


def test_lexicon_polarity_of_short_phrases() -> None:
    assert phrase_polarity("drew fierce criticism over the scandal") == "oppose"
    assert phrase_polarity("praised as a great leader") == "support"
