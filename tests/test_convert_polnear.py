"""PolNeAR -> gold, on a hand-made split folder in the real layout (tests/fixtures/polnear)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from llmextract.errors import InputError
from llmextract.evaluation.converters import polnear
from llmextract.evaluation.gold import GoldDocument
from llmextract.quotation import quote_kind, quoted_mask
from llmextract.schemas import Quote, QuoteKind, Span

FIXTURE = Path(__file__).parent / "fixtures" / "polnear" / "dev"
BUDGET = "fx-news_2016-01-01_budget-is-dead"


def _span(text: str, start: int, end: int) -> Span:
    return Span(text=text, start=start, end=end)


# Offsets checked by hand. BUDGET: the title is 27 characters, then "\n\n", so the sentence
# starts at 29: "Senator Jane Roe" 29-45, "said" 46-50, "on Monday " 51-61, "that the budget was
# dead" 61-85. Two annotators: a1f0 (chosen, the smaller id) and b2c3 (would give "Jane
# Roe" 37-45, "said on Monday" 46-60, "the budget was dead" 66-85).
TEXT_BUDGET = (
    "Senator Says Budget Is Dead\n\nSenator Jane Roe said on Monday that the budget was dead.\n"
)
EXPECTED_BUDGET = GoldDocument(
    id=BUDGET,
    text=TEXT_BUDGET,
    tasks=["quotes"],
    source="polnear",
    quotes=[
        Quote(
            content=_span("that the budget was dead", 61, 85),
            speaker=_span("Senator Jane Roe", 29, 45),
            cue=_span("said", 46, 50),
            kind="indirect",
        )
    ],
    meta={"annotator": "a1f0", "annotators": ["a1f0", "b2c3"]},
)

# MAYOR: the title (TEXT_MAYOR's first line) is 30 characters, 3 of them curly marks that
# take 3 bytes in UTF-8 (byte offsets would be off by 6); the next paragraph starts at 32.
# E1 is discontinuous (32 51;68 96): the quote spans the full extent 32-96, the gap "the
# mayor said," included, and is direct since both fragments are quoted. E2 is mixed; E3 has
# no source; E4 has a second content (Content2, "very close" inside straight quotes without
# them: direct) and gives two quotes; E5 has no content and E7 offsets that do not match its
# text: both skipped. E6's content runs over a line break (brat cuts its text there); each
# line opens a quotation, so it is direct. The Discard span and the note are ignored.
TEXT_MAYOR = (
    "Mayor\u2019s \u201cBold\u201d Plan Draws Fire\n\n"
    "\u201cWe will not wait,\u201d the mayor said, \u201cand we will not apologize.\u201d\n\n"
    "Critics said the plan was \u201creckless\u201d and would cost too much. "
    "He added that taxes would rise.\n\n"
    'The council said the vote would be close. It will be "very close," officials added.\n\n'
    "\u201cThe city needs this.\n\u201cIt cannot wait,\u201d said Ana P\u00e9rez.\n"
)
COUNCIL, SAID_4 = _span("The council", 193, 204), _span("said", 205, 209)
EXPECTED_MAYOR = GoldDocument(
    id="fx-news_2016-01-02_mayor-draws-fire",
    text=TEXT_MAYOR,
    tasks=["quotes"],
    source="polnear",
    quotes=[
        Quote(
            content=_span(
                "\u201cWe will not wait,\u201d the mayor said, "
                "\u201cand we will not apologize.\u201d",
                32,
                96,
            ),
            speaker=_span("the mayor", 52, 61),
            cue=_span("said", 62, 66),
            kind="direct",
        ),
        Quote(
            content=_span("the plan was \u201creckless\u201d and would cost too much", 111, 158),
            speaker=_span("Critics", 98, 105),
            cue=_span("said", 106, 110),
            kind="mixed",
        ),
        Quote(
            content=_span("taxes would rise", 174, 190),
            cue=_span("added", 163, 168),
            kind="indirect",
        ),
        Quote(
            content=_span("the vote would be close", 210, 233),
            speaker=COUNCIL,
            cue=SAID_4,
            kind="indirect",
        ),
        Quote(content=_span("very close", 247, 257), speaker=COUNCIL, cue=SAID_4, kind="direct"),
        Quote(
            content=_span("\u201cThe city needs this.\n\u201cIt cannot wait,\u201d", 278, 317),
            speaker=_span("Ana P\u00e9rez", 323, 332),
            cue=_span("said", 318, 322),
            kind="direct",
        ),
    ],
    meta={
        "annotator": "c3d4",
        "annotators": ["c3d4"],
        "discontinuous": [{"quote": 0, "role": "content", "fragments": [[32, 51], [68, 96]]}],
        "split_contents": [4],
        "skipped": [
            {"relation": "E5", "reason": "no Content"},
            {"relation": "E7", "reason": "Content 174 190: offsets do not match its text"},
        ],
    },
)

# PLAN: the file starts with a byte-order mark and has CRLF line endings. The brat offsets
# count the mark (Aides 15-20); it is removed, so every offset moves back by one, and the
# "\r\n" are kept: "Plan Works" 0-10, "\r\n\r\n" 10-14, "Aides" 14-19.
EXPECTED_PLAN = GoldDocument(
    id="fx-news_2016-01-03_plan-works",
    text="Plan Works\r\n\r\nAides said the plan worked.\r\n",
    tasks=["quotes"],
    source="polnear",
    quotes=[
        Quote(
            content=_span("the plan worked", 25, 40),
            speaker=_span("Aides", 14, 19),
            cue=_span("said", 20, 24),
            kind="indirect",
        )
    ],
    meta={"annotator": "d4e5", "annotators": ["d4e5"]},
)


def test_converts_the_fixture_exactly() -> None:
    # fx-news_2016-01-04_unannotated has a text but no .ann file: not a document.
    assert list(polnear.convert(FIXTURE)) == [EXPECTED_BUDGET, EXPECTED_MAYOR, EXPECTED_PLAN]


def test_every_document_revalidates() -> None:
    documents = list(polnear.convert(FIXTURE))
    assert documents
    for document in documents:
        dumped = document.model_dump(mode="json")
        assert GoldDocument.model_validate(dumped) == document
        for quote in document.quotes:
            for span in (quote.content, quote.speaker, quote.cue):
                if span is not None:
                    assert document.text[span.start : span.end] == span.text


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "dev"
    shutil.copytree(FIXTURE, folder)
    return folder


def test_annotator_choice_is_the_smallest_id(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    other = folder / "attributions" / f"{BUDGET}_b2c3.ann"
    # A later id changes nothing; a smaller one is chosen whatever the file order.
    shutil.copy(other, folder / "attributions" / f"{BUDGET}_ffff.ann")
    first = next(polnear.convert(folder))
    assert first.meta == {"annotator": "a1f0", "annotators": ["a1f0", "b2c3", "ffff"]}
    assert first.quotes == EXPECTED_BUDGET.quotes
    shutil.copy(other, folder / "attributions" / f"{BUDGET}_0000.ann")
    first = next(polnear.convert(folder))
    assert first.meta["annotator"] == "0000"
    assert first.quotes == [
        Quote(
            content=_span("the budget was dead", 66, 85),
            speaker=_span("Jane Roe", 37, 45),
            cue=_span("said on Monday", 46, 60),
            kind="indirect",
        )
    ]
    assert [d.meta["annotator"] for d in polnear.convert(folder)] == [
        d.meta["annotator"] for d in polnear.convert(folder)
    ]


def test_discontinuous_source_and_cue_use_the_full_extent(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (folder / "attributions" / f"{BUDGET}_a1f0.ann").write_text(
        "T1\tSource 29 36;42 45\tSenator Roe\n"
        "T2\tCue 46 50;61 65\tsaid that\n"
        "T3\tContent 66 85\tthe budget was dead\n"
        "E1\tAttribution:T2 Content:T3 Cue:T2 Source:T1\n",
        encoding="utf-8",
    )
    first = next(polnear.convert(folder))
    assert first.quotes == [
        Quote(
            content=_span("the budget was dead", 66, 85),
            speaker=_span("Senator Jane Roe", 29, 45),
            cue=_span("said on Monday that", 46, 65),
            kind="indirect",
        )
    ]
    assert first.meta["discontinuous"] == [
        {"quote": 0, "role": "speaker", "fragments": [[29, 36], [42, 45]]},
        {"quote": 0, "role": "cue", "fragments": [[46, 50], [61, 65]]},
    ]


def test_fragments_out_of_order_give_the_extent(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (folder / "attributions" / f"{BUDGET}_a1f0.ann").write_text(
        "T1\tContent 66 85;29 45\tthe budget was dead Senator Jane Roe\n"
        "T2\tCue 46 50\tsaid\n"
        "E1\tAttribution-no-source:T2 Content:T1 Cue:T2\n",
        encoding="utf-8",
    )
    (quote,) = next(polnear.convert(folder)).quotes
    assert (quote.content.start, quote.content.end, quote.speaker) == (29, 85, None)


def test_bad_input_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a PolNeAR split folder"):
        list(polnear.convert(tmp_path))
    folder = _copy(tmp_path)
    (folder / "attributions" / f"{BUDGET}_a1f0.ann").write_text(
        "T1\tContent sixty 85\tthe budget was dead\n", encoding="utf-8"
    )
    with pytest.raises(InputError, match=r"_a1f0\.ann:1: not a brat annotation line"):
        list(polnear.convert(folder))


@pytest.mark.parametrize(
    ("text", "fragments", "kind"),
    [
        ("He said that taxes rise.", [(8, 23)], "indirect"),
        ("He said \u201ctaxes rise.\u201d", [(8, 21)], "direct"),
        ('He said "taxes rise."', [(8, 21)], "direct"),
        # no marks in the content, but it starts and ends inside a quotation
        ("He said \u201ctaxes will rise soon.\u201d", [(9, 20)], "direct"),
        ("He said that taxes \u201cwill rise.\u201d", [(8, 31)], "mixed"),
        ("He said \u201cyes\u201d and left.", [(8, 23)], "mixed"),
        # only punctuation outside the quotation
        ("\u201cYes\u201d.", [(0, 6)], "direct"),
        # the fragments are judged, not the gap ("she said") between them
        ("\u201cWe go,\u201d she said, \u201cnow.\u201d", [(0, 7), (18, 24)], "direct"),
        # a straight quotation nested in a curly one, and the other way round
        ('\u201cHe said "no" twice,\u201d she said', [(0, 21)], "direct"),
        ('"He said \u201cno\u201d twice," she said', [(0, 21)], "direct"),
        # a quotation still open ends with its paragraph; an unmatched closing mark is ignored
        ("\u201cWe go.\n\nThey stay.", [(9, 19)], "indirect"),
        ("They stay.\u201d", [(0, 11)], "indirect"),
        # single marks are apostrophes or inner quotes: not counted
        ("He said \u2018taxes rise\u2019.", [(8, 21)], "indirect"),
    ],
)
def test_quote_kind_rule(text: str, fragments: list[tuple[int, int]], kind: QuoteKind) -> None:
    assert quote_kind(text, fragments) == kind
    assert quote_kind(text, fragments, quoted_mask(text)) == kind
