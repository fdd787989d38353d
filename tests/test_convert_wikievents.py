"""WikiEvents -> gold, on a hand-made fixture in the real format (tests/fixtures/wikievents)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path

import pytest

from llmextract.errors import InputError
from llmextract.evaluation.converters import wikievents
from llmextract.evaluation.converters.kairos_plover import KAIROS_TO_PLOVER, plover_type
from llmextract.evaluation.gold import GoldDocument, GoldEvent
from llmextract.schemas import EventType, Span

FIXTURE = Path(__file__).parent / "fixtures" / "wikievents" / "dev.jsonl"


def _span(text: str, start: int, end: int) -> Span:
    return Span(text=text, start=start, end=end)


# Offsets checked by hand. fx_doc_1 keeps each sentence's own spacing ("Deir ez-Zor",
# "group's" with a curly apostrophe; the no-break space ending sentence 2 is cut);
# sentence 2 starts at 29, after the newline at 28. In fx_doc_2 the first sentence's offsets
# do not match its string ("Kabul" is at 13 instead of 12), so it is rebuilt with single
# spaces: "Kabul ." ends at 19, the newline is at 19 and "U.S." starts at 20.
TEXT_1 = "Rebels attacked Deir ez-Zor.\nPolice arrested the group\u2019s leader."
TEXT_2 = "Two died in Kabul .\nU.S. officials said so."

REBELS = _span("Rebels", 0, 6)
DEIR = _span("Deir ez-Zor", 16, 27)
POLICE = _span("Police", 29, 35)
LEADER = _span("the group\u2019s leader", 45, 63)
TWO = _span("Two", 0, 3)
KABUL = _span("Kabul", 12, 17)
OFFICIALS = _span("U.S. officials", 20, 34)

EXPECTED = [
    GoldDocument(
        id="fx_doc_1",
        text=TEXT_1,
        tasks=["events"],
        source="wikievents",
        events=[
            GoldEvent(
                type=EventType.ASSAULT,
                source_type="Conflict.Attack.Unspecified",
                trigger=_span("attacked", 7, 15),
                actor=REBELS,
                location=DEIR,
                arguments={"Attacker": [REBELS], "Place": [DEIR]},
            ),
            GoldEvent(
                type=EventType.COERCE,
                source_type="Justice.ArrestJailDetain.Unspecified",
                trigger=_span("arrested", 36, 44),
                actor=POLICE,
                recipient=LEADER,
                # the repeated Detainee is kept once; the argument on unknown entity T99 is
                # left out
                arguments={"Jailer": [POLICE], "Detainee": [LEADER]},
            ),
        ],
        meta={"kairos_event_ids": ["fx_doc_1-E1", "fx_doc_1-E2"]},
    ),
    GoldDocument(
        id="fx_doc_2",
        text=TEXT_2,
        tasks=["events"],
        source="wikievents",
        events=[
            GoldEvent(
                type=None,
                source_type="Life.Die.Unspecified",
                trigger=_span("died", 4, 8),
                recipient=TWO,
                location=KABUL,
                arguments={"Victim": [TWO], "Place": [KABUL]},
            ),
            GoldEvent(
                # not in the table: falls back to Contact.RequestCommand.Unspecified
                type=EventType.REQUEST,
                source_type="Contact.RequestCommand.Correspondence",
                trigger=_span("said", 35, 39),
                actor=OFFICIALS,
                arguments={"Communicator": [OFFICIALS]},
            ),
        ],
        meta={"kairos_event_ids": ["fx_doc_2-E1", "fx_doc_2-E2"]},
    ),
]


def test_fixture_converts_to_the_expected_records() -> None:
    assert list(wikievents.convert(FIXTURE)) == EXPECTED


def test_text_is_rebuilt_from_tokens_not_the_run_together_text_field() -> None:
    first = next(iter(wikievents.convert(FIXTURE)))
    assert "Zor.Police" not in first.text
    assert first.text.splitlines() == [
        "Rebels attacked Deir ez-Zor.",
        "Police arrested the group\u2019s leader.",
    ]


def test_token_offsets_become_character_offsets_around_punctuation() -> None:
    first, second = wikievents.convert(FIXTURE)
    assert first.text[23:24] == "-"  # token "-" (23, 24) in sentence 1
    assert first.text[54:56] == "\u2019s"  # tokens (55, 56), (56, 57): 30 -> 29 in the text
    assert first.text[63:] == "."  # the no-break space after the last token is cut
    assert second.text[17:19] == " ."  # fallback sentence: punctuation set off by a space


def test_unmapped_kairos_type_keeps_its_source_type() -> None:
    events = [e for d in wikievents.convert(FIXTURE) for e in d.events]
    unmapped = [e for e in events if e.type is None]
    assert [e.source_type for e in unmapped] == ["Life.Die.Unspecified"]


def test_every_document_revalidates() -> None:
    for document in wikievents.convert(FIXTURE):
        assert GoldDocument.model_validate(document.model_dump()) == document
        line = json.dumps(document.model_dump(mode="json", exclude_defaults=True))
        assert GoldDocument.model_validate_json(line) == document


def test_argument_on_unknown_entity_is_left_out_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        list(wikievents.convert(FIXTURE))
    assert "fx_doc_1-T99" in caplog.text


def _write(tmp_path: Path, record: Mapping[str, object]) -> Path:
    path = tmp_path / "dev.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    return path


def test_line_without_sentences_is_one_line_of_space_joined_tokens(tmp_path: Path) -> None:
    record = {
        "doc_id": "d",
        "tokens": ["Troops", "shelled", "Aleppo", "."],
        "event_mentions": [
            {
                "id": "d-E1",
                "event_type": "Conflict.Attack.DetonateExplode",
                "trigger": {"start": 1, "end": 2},
                "arguments": [],
            }
        ],
    }
    (document,) = wikievents.convert(_write(tmp_path, record))
    assert document.text == "Troops shelled Aleppo ."
    assert document.events[0].trigger == _span("shelled", 7, 14)
    assert document.events[0].type is EventType.ASSAULT


def test_token_range_outside_the_document_is_an_input_error(tmp_path: Path) -> None:
    record = {
        "doc_id": "d",
        "tokens": ["Hello"],
        "event_mentions": [
            {"id": "d-E1", "event_type": "Life.Die.Unspecified", "trigger": {"start": 1, "end": 2}}
        ],
    }
    with pytest.raises(InputError, match=r"dev\.jsonl:1: d-E1 trigger: token range"):
        list(wikievents.convert(_write(tmp_path, record)))


def test_sentences_that_do_not_cover_the_tokens_are_an_input_error(tmp_path: Path) -> None:
    record = {"doc_id": "d", "tokens": ["a", "b"], "sentences": [[[["a", 0, 1]], "a"]]}
    with pytest.raises(InputError, match=r"dev\.jsonl:1: the tokens of 'sentences'"):
        list(wikievents.convert(_write(tmp_path, record)))


def test_bad_json_and_missing_file_are_input_errors(tmp_path: Path) -> None:
    path = tmp_path / "dev.jsonl"
    path.write_text('{"doc_id": "d", "tokens": []}\n{oops\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"dev\.jsonl:2: not JSON"):
        list(wikievents.convert(path))
    with pytest.raises(InputError, match="cannot be read"):
        list(wikievents.convert(tmp_path / "absent.jsonl"))


def test_kairos_table_and_fallback() -> None:
    assert all(key.count(".") == 2 for key in KAIROS_TO_PLOVER)
    assert plover_type("Conflict.Attack.DetonateExplode") is EventType.ASSAULT
    assert plover_type("Contact.Contact.Meet") is EventType.CONSULT
    assert plover_type("Contact.Contact.Broadcast") is None
    assert plover_type("Conflict.Demonstrate.DemonstrateWithViolence") is EventType.PROTEST
    assert plover_type("Justice.ArrestJailDetain.Unspecified") is EventType.COERCE
    assert plover_type("Movement.Transportation.Unspecified") is None
    assert plover_type("Life.Die.Unspecified") is None
    assert plover_type("Contact.ThreatenCoerce.Correspondence") is EventType.THREATEN
    assert plover_type("Movement.Transportation.Teleport") is None
    assert plover_type("Not.A.Type") is None
    assert plover_type("Conflict") is None
