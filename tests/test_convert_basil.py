"""BASIL -> gold, on a hand-made dataset folder in the real layout (tests/fixtures/basil)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from llmextract.errors import InputError
from llmextract.evaluation.converters import basil
from llmextract.evaluation.gold import GoldDocument, GoldStance
from llmextract.schemas import Polarity, Quote, Span

FIXTURE = Path(__file__).parent / "fixtures" / "basil"
ID_A = "0a1b2c3d-0000-4000-8000-000000000001_1"
ID_B = "0a1b2c3d-0000-4000-8000-000000000002_3"


def _span(text: str, start: int, end: int) -> Span:
    return Span(text=text, start=start, end=end)


def _stance(target: str, polarity: Polarity, evidence: Span) -> GoldStance:
    return GoldStance(holder=None, target=target, polarity=polarity, evidence=evidence)


# Document A is the title (18 characters), "\n\n", then three paragraphs; sentences of a
# paragraph joined by one space. Sentence starts, checked by hand:
#   p0 20 (81 characters: "WASHINGTON — Senator Jane Smith ... “a reckless gamble.”")
#   p1 102 = 20 + 81 + 1 (39 characters, ends at 141)
#   p2 143 = 141 + 2 (64 characters)        p3 208 = 143 + 64 + 1 (33 characters)
#   p4 243 = 208 + 33 + 2
# so p0's phrase 61-81 is at 81-101, p1's 16-38 at 118-140, p2's 1-17 at 144-160, p3's
# 26-32 at 234-240, p4's 27-44 at 270-287; the title phrase 6-11 stays at 6-11.
TEXT_A = (
    "Smith Slams Budget\n\n"
    "WASHINGTON \u2014 Senator Jane Smith on Tuesday called the budget "
    "\u201ca reckless gamble.\u201d Jane Smith said it would hurt families.\n\n"
    "\u201cIt is a disaster for the middle class,\u201d said Tom Lee, a critic. "
    "The plan, critics say, is doomed.\n\n"
    "Supporters praised Smith\u2019s steady leadership."
)
GAMBLE = _span("\u201ca reckless gamble.\u201d", 81, 101)
FAMILIES = _span("it would hurt families", 118, 140)
DISASTER = _span("It is a disaster", 144, 160)
EXPECTED_A = GoldDocument(
    id=ID_A,
    text=TEXT_A,
    tasks=["stances", "quotes"],
    source="basil",
    stances=[
        _stance("Barack Obama", "oppose", GAMBLE),
        _stance("Barack Obama", "oppose", FAMILIES),
        _stance("Barack Obama", "oppose", DISASTER),
        _stance("Barack Obama", "neutral", _span("doomed", 234, 240)),
        # p4 is annotated twice alike: kept once
        _stance("Jane Smith", "support", _span("steady leadership", 270, 287)),
        _stance("Barack Obama", "oppose", _span("Slams", 6, 11)),
    ],
    quotes=[
        # the speaker's full name in the same sentence, before the phrase: "Senator Jane Smith"
        Quote(
            content=GAMBLE,
            speaker=_span("Jane Smith", 41, 51),
            speaker_name="Jane Smith",
            kind="direct",
        ),
        # no quotation mark around the phrase: indirect
        Quote(
            content=FAMILIES,
            speaker=_span("Jane Smith", 102, 112),
            speaker_name="Jane Smith",
            kind="indirect",
        ),
        # other_anti names nobody; the phrase lies inside a quotation without its marks
        Quote(content=DISASTER, speaker=None, speaker_name=None, kind="direct"),
    ],
    meta={
        "quote_recall_measurable": False,
        "publisher": "fox",
        "triplet": "0a1b2c3d-0000-4000-8000-000000000001",
        "speaker_labels": ["Jane_Smith", "Jane_Smith", "other_anti"],
        "skipped": [
            {"phrase": "p3", "txt": "The plan", "reason": "offsets do not match txt"},
            {"phrase": "p9", "txt": "Gone", "reason": "no such sentence"},
        ],
    },
)

# Document B: "Lee Speaks" (10), "\n\n", the sentence at 12; its phrase 15-37 is at 27-49.
# The speaker's name occurs only inside the quotation: no speaker span.
TEXT_B = "Lee Speaks\n\nOfficials said \u201cTom Lee has no plan.\u201d"
NO_PLAN = _span("\u201cTom Lee has no plan.\u201d", 27, 49)
EXPECTED_B = GoldDocument(
    id=ID_B,
    text=TEXT_B,
    tasks=["stances", "quotes"],
    source="basil",
    stances=[_stance("Tom Lee", "oppose", NO_PLAN)],
    quotes=[Quote(content=NO_PLAN, speaker=None, speaker_name="Tom Lee", kind="direct")],
    meta={
        "quote_recall_measurable": False,
        "publisher": "nyt",
        "triplet": "0a1b2c3d-0000-4000-8000-000000000002",
        "speaker_labels": ["Tom_Lee"],
    },
)


def test_converts_the_fixture_exactly() -> None:
    assert list(basil.convert(FIXTURE)) == [EXPECTED_A, EXPECTED_B]


def test_every_document_revalidates() -> None:
    documents = list(basil.convert(FIXTURE))
    assert documents
    for document in documents:
        assert GoldDocument.model_validate(document.model_dump(mode="json")) == document


def test_offsets_map_from_sentences_to_the_document() -> None:
    """Every kept phrase's sentence-relative offsets land on its text in the document."""
    article = json.loads(
        (FIXTURE / "articles" / "2011" / f"{ID_A}.json").read_text(encoding="utf-8")
    )
    sentences = [s for paragraph in article["body-paragraphs"] for s in paragraph]
    paragraphs = [" ".join(paragraph) for paragraph in article["body-paragraphs"]]
    assert "\n\n".join([article["title"], *paragraphs]) == TEXT_A
    document = next(basil.convert(FIXTURE))
    starts = [TEXT_A.index(sentence) for sentence in sentences]
    assert starts == [20, 102, 143, 208, 243]
    for stance in document.stances:
        assert TEXT_A[stance.evidence.start : stance.evidence.end] == stance.evidence.text


def test_bad_input_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a BASIL folder"):
        list(basil.convert(tmp_path))
    folder = tmp_path / "basil"
    shutil.copytree(FIXTURE, folder)
    annotation = folder / "annotations" / "2012" / f"{ID_B}_ann.json"
    data = json.loads(annotation.read_text(encoding="utf-8"))
    del data["phrase-level-annotations"][0]["quote"]
    annotation.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError, match="missing field 'quote'"):
        list(basil.convert(folder))
    (folder / "articles" / "2012" / f"{ID_B}.json").unlink()
    with pytest.raises(InputError, match="cannot be read"):
        list(basil.convert(folder))


def test_unknown_polarity_is_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "basil"
    shutil.copytree(FIXTURE, folder)
    annotation = folder / "annotations" / "2012" / f"{ID_B}_ann.json"
    data = json.loads(annotation.read_text(encoding="utf-8"))
    data["phrase-level-annotations"][0]["polarity"] = "str-neg"
    annotation.write_text(json.dumps(data), encoding="utf-8")
    document = list(basil.convert(folder))[1]
    assert (document.stances, document.quotes) == ([], [])
    assert document.meta["skipped"] == [
        {
            "phrase": "p0",
            "txt": "\u201cTom Lee has no plan.\u201d",
            "reason": "unknown polarity 'str-neg'",
        }
    ]
