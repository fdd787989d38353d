"""NewsMTSC -> gold, on hand-made fixtures in both real formats (tests/fixtures/newsmtsc)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from llmextract.errors import InputError
from llmextract.evaluation.converters import newsmtsc
from llmextract.evaluation.gold import GoldDocument, GoldStance
from llmextract.schemas import Polarity, Span

FIXTURES = Path(__file__).parent / "fixtures" / "newsmtsc"
NOTE = "sentiment: reported as stance only with this caveat"


def _stance(target: str, polarity: Polarity, start: int, end: int) -> GoldStance:
    return GoldStance(
        holder=None,
        target=target,
        polarity=polarity,
        evidence=Span(text=target, start=start, end=end),
        label="sentiment",
    )


def _id(sentence: str) -> str:
    return "newsmtsc-" + hashlib.sha256(sentence.encode("utf-8")).hexdigest()[:16]


JANE = "Jane Doe praised the mayor\u2019s plan, but critics attacked her."
SMITH = "Smith resigned."
OBAMA = "But Obama's rivals were furious."
HE = "“He left.”"

# train.jsonl: rows 1 and 3 share a sentence (not adjacent) and both list "the mayor".
EXPECTED_OWN = [
    GoldDocument(
        id=_id(JANE),
        text=JANE,
        tasks=["stances"],
        source="newsmtsc",
        stances=[
            _stance("Jane Doe", "support", 0, 8),
            _stance("the mayor", "neutral", 17, 26),
            _stance("critics", "oppose", 39, 46),
        ],
        meta={
            "label": NOTE,
            "row_ids": [
                "fx_1_Jane Doe_0_8",
                "fx_1_Mayor Smith_17_26",
                "fx_1_Mayor Smith_17_26",
                "fx_1_critics_39_46",
            ],
        },
    ),
    GoldDocument(
        id=_id(SMITH),
        text=SMITH,
        tasks=["stances"],
        source="newsmtsc",
        stances=[_stance("Smith", "oppose", 0, 5)],
        meta={"label": NOTE, "row_ids": ["fx_2_Mayor Smith_0_5"]},
    ),
]

# hf-dev.jsonl: one row per target, polarity -1/0/1; "Obama" is listed for two entities.
EXPECTED_HF = [
    GoldDocument(
        id=_id(OBAMA),
        text=OBAMA,
        tasks=["stances"],
        source="newsmtsc",
        stances=[_stance("Obama", "support", 4, 9), _stance("rivals", "oppose", 12, 18)],
        meta={
            "label": NOTE,
            "row_ids": [
                "fx_hf_1_Barack Obama_4_9",
                "fx_hf_1_President Obama_4_9",
                "fx_hf_1_rivals_12_18",
            ],
        },
    ),
    GoldDocument(
        id=_id(HE),
        text=HE,
        tasks=["stances"],
        source="newsmtsc",
        stances=[_stance("He", "neutral", 1, 3)],
        meta={"label": NOTE, "row_ids": ["fx_hf_2_John Roe_1_3"]},
    ),
]


def test_own_format_groups_rows_by_sentence() -> None:
    assert list(newsmtsc.convert(FIXTURES / "train.jsonl")) == EXPECTED_OWN


def test_hf_format_groups_target_rows_by_sentence() -> None:
    assert list(newsmtsc.convert(FIXTURES / "hf-dev.jsonl")) == EXPECTED_HF


def test_ids_are_stable_hashes_of_the_sentence() -> None:
    first = [d.id for d in newsmtsc.convert(FIXTURES / "hf-dev.jsonl")]
    again = [d.id for d in newsmtsc.convert(FIXTURES / "hf-dev.jsonl")]
    assert first == again == ["newsmtsc-" + _sha(OBAMA), "newsmtsc-" + _sha(HE)]
    assert len(set(first)) == len(first)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def test_evidence_is_the_target_mention() -> None:
    for document in newsmtsc.convert(FIXTURES / "train.jsonl"):
        for stance in document.stances:
            assert stance.holder is None
            assert stance.label == "sentiment"
            assert document.text[stance.evidence.start : stance.evidence.end] == stance.target


@pytest.mark.parametrize("name", ["train.jsonl", "hf-dev.jsonl"])
def test_every_document_revalidates(name: str) -> None:
    for document in newsmtsc.convert(FIXTURES / name):
        assert GoldDocument.model_validate(document.model_dump()) == document
        line = json.dumps(document.model_dump(mode="json", exclude_defaults=True))
        assert GoldDocument.model_validate_json(line) == document


def _write(tmp_path: Path, *rows: dict[str, object]) -> Path:
    path = tmp_path / "dev.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_offsets_that_miss_the_mention_are_an_input_error(tmp_path: Path) -> None:
    row = {"mention": "Cruz", "polarity": 0, "from": 1, "to": 5, "sentence": "Cruz won.", "id": "x"}
    with pytest.raises(InputError, match=r"dev\.jsonl:1: target 'Cruz': sentence\[1:5\]"):
        list(newsmtsc.convert(_write(tmp_path, row)))


def test_unknown_polarity_and_missing_field_are_input_errors(tmp_path: Path) -> None:
    good = {
        "mention": "Cruz",
        "polarity": 0,
        "from": 0,
        "to": 4,
        "sentence": "Cruz won.",
        "id": "x",
    }
    # 4.0 means neutral in the dataset's own files, not in the one-row-per-target splits
    bad = {**good, "polarity": 4.0}
    with pytest.raises(InputError, match=r"dev\.jsonl:2: target 'Cruz': unknown polarity 4\.0"):
        list(newsmtsc.convert(_write(tmp_path, good, bad)))
    missing = {key: value for key, value in good.items() if key != "mention"}
    with pytest.raises(InputError, match=r"dev\.jsonl:1: missing field 'mention'"):
        list(newsmtsc.convert(_write(tmp_path, missing)))
