from __future__ import annotations

import json
from dataclasses import asdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmextract.evaluation.bootstrap import resampled_sums
from llmextract.evaluation.counts import Counts, DocumentScore, TokenCounts
from llmextract.evaluation.direct import is_direct
from llmextract.evaluation.scorers import score_document, score_result
from llmextract.evaluation.table import (
    ScoreTable,
    aggregate,
    bootstrap,
    confusion,
    paired_bootstrap,
)
from llmextract.evaluation.tokens import token_prf
from llmextract.gold import GoldDocument, GoldEvent, GoldStance
from llmextract.quotation import QUOTE_MARKS, quoted_mask
from llmextract.schemas import DocumentResult, Event, EventType, Quote, Span, Stance


def sp(text: str, fragment: str, after: str = "") -> Span:
    """The span of the first ``fragment`` in ``text`` after the first ``after``."""
    at = text.index(fragment, text.index(after) if after else 0)
    return Span(text=fragment, start=at, end=at + len(fragment))


# --- counts -------------------------------------------------------------------------------


def test_counts_scores_and_sum() -> None:
    counts = Counts(tp=1, fp=1, fn=2)
    assert counts.precision == 0.5
    assert counts.recall == pytest.approx(1 / 3)
    assert counts.f1 == pytest.approx(0.4)  # 2 * 1/2 * 1/3 / (1/2 + 1/3)
    assert Counts(1, 2, 3) + Counts(4, 5, 6) == Counts(5, 7, 9)
    empty = Counts()
    assert (empty.precision, empty.recall, empty.f1) == (0.0, 0.0, 0.0)


def test_three_gold_two_pred_one_partial_overlap() -> None:
    text = "Ann said yes. Bob said no. Cy said maybe."
    gold = [Quote(content=sp(text, f)) for f in ("yes", "no", "maybe")]
    pred = [Quote(content=sp(text, "maybe")), Quote(content=sp(text, "Bob said no"))]
    # exact: "maybe" matches; "Bob said no" only overlaps "no" -> tp 1, fp 1, fn 2.
    counts = score_document("quotes", pred, gold, text, "exact").counts["content"]
    assert counts == Counts(tp=1, fp=1, fn=2)
    assert counts.precision == 0.5
    assert counts.f1 == pytest.approx(0.4)
    assert counts.recall == pytest.approx(1 / 3)
    # token: "no" is a shared token, so the partial overlap counts: P = 1, R = 2/3, F1 = 0.8.
    loose = score_document("quotes", pred, gold, text, "token").counts["content"]
    assert loose == Counts(tp=2, fp=0, fn=1)
    assert loose.f1 == pytest.approx(0.8)


# --- token overlap ------------------------------------------------------------------------


def test_token_prf_worked_example() -> None:
    text = "The mayor said the new bridge will open in May, weeks late."
    gold = [sp(text, "the new bridge will open in May")]  # 7 tokens
    pred = [sp(text, "bridge will open in May, weeks late.")]  # 9 tokens: ... May , weeks late .
    # inside gold: bridge will open in May = 5 of 9 predicted -> P = 5/9
    # covered gold: 5 of 7 -> R = 5/7; F1 = 2PR/(P+R) = 2*25/63 / (35/63 + 45/63) = 50/80.
    counts = token_prf(pred, gold, text)
    assert counts == TokenCounts(pred_in_gold=5, pred_total=9, gold_covered=5, gold_total=7)
    assert counts.precision == pytest.approx(5 / 9)
    assert counts.recall == pytest.approx(5 / 7)
    assert counts.f1 == pytest.approx(0.625)


def test_token_prf_duplicates_and_several_gold_spans() -> None:
    text = "a b c d e f"
    gold = [sp(text, "a b"), sp(text, "e f")]  # 4 gold tokens
    pred = [sp(text, "b c"), sp(text, "b c")]  # the same 2 tokens, twice
    # precision per predicted span: "b" is in gold, "c" is not -> 2 of 4.
    # recall: only "b" is covered -> 1 of 4.
    assert token_prf(pred, gold, text) == TokenCounts(2, 4, 1, 4)
    assert token_prf([], gold, text) == TokenCounts(0, 0, 0, 4)
    assert token_prf([], [], text).f1 == 0.0


# --- quotes -------------------------------------------------------------------------------

QUOTE_TEXT = (
    'Ann Lee said: "We will win." Bob Roe warned that taxes would rise. '
    'Critics, including Cy, said "never". The mayor added: "Soon." Dee: "It is over".'
)


def quote_fixture() -> tuple[list[Quote], list[Quote]]:
    t = QUOTE_TEXT
    gold = [
        Quote(content=sp(t, "We will win."), speaker=sp(t, "Ann Lee"), cue=sp(t, "said")),
        Quote(
            content=sp(t, "taxes would rise"),
            speaker=sp(t, "Bob Roe"),
            cue=sp(t, "warned"),
            kind="indirect",
        ),
        Quote(content=sp(t, "never"), speaker=sp(t, "Cy"), cue=sp(t, "said", after="Cy")),
        Quote(content=sp(t, "Soon.")),  # no speaker, no cue
        Quote(content=sp(t, "It is over"), speaker=sp(t, "Dee")),  # missed
    ]
    pred = [
        # speaker "Lee" overlaps "Ann Lee": tp; same cue: tp; kind right: tp
        Quote(content=sp(t, "We will win."), speaker=sp(t, "Lee"), cue=sp(t, "said")),
        # no speaker span but the same name: tp; cue missing: fn; kind wrong: fp + fn
        Quote(content=sp(t, "taxes would rise"), speaker_name="bob roe"),
        # wrong speaker: fn; a different "said" is the same cue text: tp; kind right: tp
        Quote(content=sp(t, "never"), speaker=sp(t, "Critics"), cue=sp(t, "said")),
        # gold has no speaker or cue: nothing counted for them; kind right: tp
        Quote(content=sp(t, "Soon."), speaker=sp(t, "The mayor"), cue=sp(t, "added")),
        # unmatched: counts for content only
        Quote(content=sp(t, "Bob Roe warned"), speaker=sp(t, "Bob Roe"), kind="mixed"),
    ]
    return pred, gold


def test_quote_fields() -> None:
    pred, gold = quote_fixture()
    score = score_document("quotes", pred, gold, QUOTE_TEXT, "exact", doc_id="q")
    assert score.id == "q" and score.task == "quotes"
    assert score.counts == {
        "content": Counts(tp=4, fp=1, fn=1),
        # inside quotation marks: gold has 4 (all but "taxes would rise"), pred 3 of them
        "content_direct": Counts(tp=3, fp=0, fn=1),
        "speaker": Counts(tp=2, fp=0, fn=1),
        "cue": Counts(tp=2, fp=0, fn=1),
        "kind": Counts(tp=3, fp=1, fn=1),
    }
    assert sorted(score.pairs["kind"]) == sorted(
        [
            ("direct", "direct"),
            ("indirect", "direct"),
            ("direct", "direct"),
            ("direct", "direct"),
            ("direct", "MISSED"),
            ("SPURIOUS", "mixed"),
        ]
    )
    assert score.tokens is not None and score.tokens.gold_total > 0


# --- events -------------------------------------------------------------------------------

EVENT_TEXT = (
    "Rebels attacked the base in Homs on Monday. The UN sent aid to Homs. "
    "Talks were held. Police arrested ten."
)


def event_fixture() -> tuple[list[Event], list[GoldEvent]]:
    t = EVENT_TEXT
    second_homs = sp(t, "Homs", after="aid")
    gold = [
        GoldEvent(
            type=EventType.ASSAULT,
            trigger=sp(t, "attacked"),
            actor=sp(t, "Rebels"),
            recipient=sp(t, "the base"),
            location=sp(t, "Homs"),
            time=sp(t, "Monday"),
        ),
        # the recipient is only in the source-ontology arguments
        GoldEvent(
            type=EventType.AID,
            trigger=sp(t, "sent"),
            actor=sp(t, "The UN"),
            arguments={"recipient": [second_homs]},
        ),
        GoldEvent(type=None, source_type="Meet", trigger=sp(t, "Talks")),  # untyped
        GoldEvent(type=EventType.COERCE, trigger=sp(t, "arrested"), actor=sp(t, "Police")),
    ]
    pred = [
        # type right; actor tp; "base" overlaps "the base": tp; location is the other
        # "Homs": fp + fn; time missing: fn
        Event(
            type=EventType.ASSAULT,
            trigger=sp(t, "attacked"),
            actor=sp(t, "Rebels"),
            recipient=sp(t, "base"),
            location=second_homs,
        ),
        # type wrong; actor tp; recipient tp (from arguments); location the gold lacks: fp
        Event(
            type=EventType.SUPPORT,
            trigger=sp(t, "sent"),
            actor=sp(t, "UN"),
            recipient=second_homs,
            location=second_homs,
        ),
        # matched to the untyped gold event: left out of the type field
        Event(type=EventType.CONSULT, trigger=sp(t, "Talks")),
        # spurious
        Event(type=EventType.AGREE, trigger=sp(t, "held"), actor=sp(t, "Talks")),
    ]
    return pred, gold


def test_event_fields() -> None:
    pred, gold = event_fixture()
    score = score_document("events", pred, gold, EVENT_TEXT, "exact")
    assert score.tokens is None
    assert score.counts == {
        "trigger": Counts(tp=3, fp=1, fn=1),
        # typed: tp ASSAULT; fp SUPPORT (wrong) + AGREE (spurious); fn AID + COERCE (missed)
        "type": Counts(tp=1, fp=2, fn=2),
        "arg:actor": Counts(tp=2, fp=0, fn=0),
        "arg:recipient": Counts(tp=2, fp=0, fn=0),
        "arg:location": Counts(tp=0, fp=2, fn=1),
        "arg:time": Counts(tp=0, fp=0, fn=1),
        # the four roles above, plus the actor of the missed "arrested" (fn) and of the
        # spurious "held" (fp)
        "arguments": Counts(tp=4, fp=3, fn=3),
    }
    assert sorted(score.pairs["type"]) == sorted(
        [("ASSAULT", "ASSAULT"), ("AID", "SUPPORT"), ("COERCE", "MISSED"), ("SPURIOUS", "AGREE")]
    )


def test_type_needs_the_trigger() -> None:
    text = "They attacked and fled."
    gold = [Event(type=EventType.ASSAULT, trigger=sp(text, "attacked"))]
    pred = [Event(type=EventType.ASSAULT, trigger=sp(text, "fled"))]  # right type, wrong place
    counts = score_document("events", pred, gold, text, "exact").counts
    assert counts["trigger"] == Counts(tp=0, fp=1, fn=1)
    assert counts["type"] == Counts(tp=0, fp=1, fn=1)


# --- stances ------------------------------------------------------------------------------

STANCE_TEXT = (
    "Mayor Ann Lee backed the new stadium plan. "
    '"It is a disaster," said the council. '
    "Residents oppose higher taxes. "
    "The editorial welcomes the budget."
)


def test_stances_sharing_evidence_pair_with_the_gold_of_their_own_target() -> None:
    t = "Grant praised the staff but blamed the overrun."
    evidence = sp(t, t)
    gold = [
        GoldStance(target="the staff", polarity="support", evidence=evidence),
        GoldStance(target="the overrun", polarity="oppose", evidence=evidence),
    ]
    pred = [  # the same two, in the other order
        Stance(target="the overrun", polarity="oppose", evidence=evidence),
        Stance(target="the staff", polarity="support", evidence=evidence),
    ]
    score = score_document("stances", pred, gold, t, "exact")
    assert score.counts["target"] == Counts(tp=2)
    assert score.counts["polarity"] == Counts(tp=2)
    assert sorted(score.pairs["polarity"]) == [("oppose", "oppose"), ("support", "support")]


def stance_fixture() -> tuple[list[Stance], list[GoldStance]]:
    t = STANCE_TEXT
    evidence = [
        sp(t, "Mayor Ann Lee backed the new stadium plan."),
        sp(t, '"It is a disaster," said the council.'),
        sp(t, "Residents oppose higher taxes."),
        sp(t, "The editorial welcomes the budget."),
    ]
    gold = [
        GoldStance(
            holder=sp(t, "Ann Lee"), target="stadium plan", polarity="support", evidence=evidence[0]
        ),
        GoldStance(
            holder=sp(t, "the council"),
            target="the stadium",
            polarity="oppose",
            evidence=evidence[1],
        ),
        GoldStance(target="taxes", polarity="oppose", evidence=evidence[2]),  # no holder
        GoldStance(
            holder_name="The editorial board",
            target="budget",
            polarity="support",
            evidence=evidence[3],
        ),
    ]
    pred = [
        # holder overlaps: tp; {the,new,stadium,plan} covers both words of "stadium plan": tp
        Stance(
            holder=sp(t, "Mayor Ann Lee"),
            target="the new stadium plan",
            polarity="support",
            evidence=evidence[0],
        ),
        # wrong holder: fn; "Stadium" is 1 of 1 word of the shorter target: tp; polarity fp+fn
        Stance(holder=sp(t, "Ann Lee"), target="Stadium", polarity="support", evidence=evidence[1]),
        # gold has no holder: nothing; "pensions" vs "taxes": fp + fn; polarity tp
        Stance(
            holder=sp(t, "Residents"), target="pensions", polarity="oppose", evidence=evidence[2]
        ),
        # holder_name equals the gold name case-insensitively: tp; target tp; polarity fp+fn
        Stance(
            holder=sp(t, "The editorial"),
            holder_name="the editorial board",
            target="the budget",
            polarity="neutral",
            evidence=evidence[3],
        ),
    ]
    return pred, gold


def test_stance_fields() -> None:
    pred, gold = stance_fixture()
    score = score_document("stances", pred, gold, STANCE_TEXT, "exact")
    assert score.counts == {
        "evidence": Counts(tp=4, fp=0, fn=0),
        "holder": Counts(tp=2, fp=0, fn=1),
        "target": Counts(tp=3, fp=1, fn=1),
        "polarity": Counts(tp=2, fp=2, fn=2),
    }
    assert sorted(score.pairs["polarity"]) == sorted(
        [
            ("support", "support"),
            ("oppose", "support"),
            ("oppose", "oppose"),
            ("support", "neutral"),
        ]
    )


def test_target_overlap_threshold() -> None:
    text = "x"
    ev = Span(text="x", start=0, end=1)

    def target_counts(pred: str, gold: str) -> Counts:
        p = Stance(holder=ev, target=pred, polarity="support", evidence=ev)
        g = GoldStance(target=gold, polarity="support", evidence=ev)
        return score_document("stances", [p], [g], text, "exact").counts["target"]

    # shorter side {new, tax, law}: 2 shared of 3 >= 1.5 -> match
    assert target_counts("the new tax law", "New tax LAW!") == Counts(tp=1)
    # shorter {carbon, tax}: 1 of 2 = 0.5 -> match (inclusive)
    assert target_counts("carbon tax", "the income tax plan") == Counts(tp=1)
    # shorter {new, stadium}: 1 of 2 -> match; {the, stadium} shares nothing -> no
    assert target_counts("green new deal", "new stadium") == Counts(tp=1)
    assert target_counts("green new deal", "the stadium") == Counts(fp=1, fn=1)
    # shorter {green, new, deal}: 1 of 3 < 1.5 -> no
    assert target_counts("green new deal", "a new stadium for the city") == Counts(fp=1, fn=1)
    assert target_counts("", "the stadium") == Counts(fp=1, fn=1)


# --- corpus -------------------------------------------------------------------------------


def trigger_doc(doc_id: str, gold: int, pred_right: int, pred_wrong: int) -> DocumentScore:
    """Events with ``gold`` gold triggers, ``pred_right`` of them found, ``pred_wrong`` extra."""
    text = " ".join(f"w{i}" for i in range(gold + pred_wrong))
    spans = [sp(text, f"w{i}") for i in range(gold + pred_wrong)]
    gold_events = [Event(type=EventType.AID, trigger=s) for s in spans[:gold]]
    pred_events = [Event(type=EventType.AID, trigger=s) for s in spans[:pred_right]]
    pred_events += [Event(type=EventType.AID, trigger=s) for s in spans[gold:]]
    return score_document("events", pred_events, gold_events, text, "exact", doc_id=doc_id)


def test_micro_versus_macro() -> None:
    scores = [
        trigger_doc("a", gold=1, pred_right=1, pred_wrong=0),  # tp 1: F1 1
        trigger_doc("b", gold=3, pred_right=0, pred_wrong=1),  # fp 1, fn 3: F1 0
        trigger_doc("c", gold=0, pred_right=0, pred_wrong=0),  # nothing: not in the macro
    ]
    result = aggregate(scores)["events.trigger"]
    # micro: tp 1, fp 1, fn 3 -> P 1/2, R 1/4, F1 2/(2+1+3) = 1/3; macro (1 + 0) / 2
    assert (result.tp, result.fp, result.fn) == (1, 1, 3)
    assert (result.precision, result.recall) == (0.5, 0.25)
    assert result.f1 == pytest.approx(1 / 3)
    assert result.macro_f1 == 0.5
    assert (result.documents, result.scored_documents) == (3, 2)


DIRECT_TEXT = (
    'Ann said "we will win the vote" today. \u201cIt is over,\u201d Bob said. '
    "Cy warned that taxes would rise.\n"
    '"An open mark with no close.\n\nDee said the plan "works well" for now.\n'
    "Eve wrote \u201eWir schaffen das\u201c yesterday."
)


def test_direct_subset_matches_quoted_contents_only() -> None:
    t = DIRECT_TEXT
    assert is_direct(sp(t, "we will win the vote"), t)  # inside straight marks
    assert is_direct(sp(t, "\u201cIt is over,\u201d"), t)  # contains curly marks
    assert is_direct(sp(t, "It is over"), t)  # inside curly marks
    assert not is_direct(sp(t, "taxes would rise"), t)
    # Left open: a quotation up to its paragraph's end, as the gold converters see it.
    assert is_direct(sp(t, "An open mark with no close"), t)
    assert not is_direct(sp(t, "Dee said the plan"), t)  # the next paragraph is not quoted
    assert is_direct(sp(t, 'the plan "works well" for now'), t)  # mixed: contains marks
    assert is_direct(sp(t, 'works well" for now'), t)  # starts inside a quotation
    assert is_direct(sp(t, "Wir schaffen das"), t)  # German low-high marks
    assert not is_direct(sp(t, "yesterday"), t)
    gold = [
        Quote(content=sp(t, "we will win the vote")),
        Quote(content=sp(t, "It is over")),
        Quote(content=sp(t, "taxes would rise"), kind="indirect"),
    ]
    pred = [
        Quote(content=sp(t, "we will win the vote")),  # direct, matches
        Quote(content=sp(t, "taxes would rise")),  # indirect: outside the subset
        Quote(content=sp(t, 'the plan "works well" for now')),  # direct, spurious
    ]
    score = score_document("quotes", pred, gold, t, "iou")
    assert score.counts["content"] == Counts(tp=2, fp=1, fn=1)
    # DIRECT: pred {win the vote, works well}, gold {win the vote, It is over}
    assert score.counts["content_direct"] == Counts(tp=1, fp=1, fn=1)


def test_aggregate_keys_and_token_field() -> None:
    pred, gold = quote_fixture()
    scores = [score_document("quotes", pred, gold, QUOTE_TEXT, "exact", doc_id="q")]
    text = "a b c d"
    scores.append(
        score_document(
            "quotes",
            [Quote(content=sp(text, "a b"))],
            [Quote(content=sp(text, "b c"))],
            text,
            "exact",
        )
    )  # tokens: pred {a, b} 1 in gold; gold {b, c} 1 covered
    result = aggregate(scores)
    assert set(result) == {
        "quotes.content",
        "quotes.content_direct",
        "quotes.content_token",
        "quotes.speaker",
        "quotes.cue",
        "quotes.kind",
    }
    assert scores[0].tokens is not None
    tokens = scores[0].tokens + TokenCounts(1, 2, 1, 2)
    field = result["quotes.content_token"]
    assert field.tokens == tokens
    assert (field.precision, field.recall, field.f1) == (tokens.precision, tokens.recall, tokens.f1)
    assert field.tp == tokens.pred_in_gold
    assert field.fn == tokens.gold_total - tokens.gold_covered
    assert result["quotes.content"].tp == 4  # the second document matches nothing exactly


def test_results_are_json_serialisable() -> None:
    pred, gold = event_fixture()
    score = score_document("events", pred, gold, EVENT_TEXT, "iou", doc_id="e")
    stances = score_document("stances", *stance_fixture(), STANCE_TEXT, "iou", doc_id="s")
    json.dumps(asdict(score))
    json.dumps({key: value.model_dump() for key, value in aggregate([score, stances]).items()})
    json.dumps(confusion([score], "events.type"))


def test_score_result_scores_only_the_annotated_tasks() -> None:
    pred, gold = quote_fixture()
    document = GoldDocument(id="g1", text=QUOTE_TEXT, tasks=["quotes", "stances"], quotes=gold)
    result = DocumentResult(
        id="g1",
        sha256="0" * 64,
        chars=len(QUOTE_TEXT),
        model="m",
        endpoint="e",
        prompts={},
        quotes=pred,
        events=[Event(type=EventType.AID, trigger=sp(QUOTE_TEXT, "warned"))],
    )
    scores = score_result(document, result, "exact")
    assert [(s.id, s.task) for s in scores] == [("g1", "quotes"), ("g1", "stances")]
    assert scores[0].counts["content"] == Counts(tp=4, fp=1, fn=1)
    assert scores[1].counts["evidence"] == Counts()
    assert [s.task for s in score_result(document, result, "exact", tasks=["events"])] == []


# --- bootstrap ----------------------------------------------------------------------------


def corpus() -> list[DocumentScore]:
    shapes = [(3, 3, 0), (2, 1, 1), (4, 2, 0), (1, 0, 2), (5, 5, 1), (2, 2, 0), (3, 1, 1)]
    return [trigger_doc(str(i), *shape) for i, shape in enumerate(shapes * 3)]


def test_bootstrap_is_deterministic_and_contains_the_estimate() -> None:
    scores = corpus()
    point = aggregate(scores)["events.trigger"].f1
    low, high = bootstrap(scores, "events.trigger", samples=500, seed=7)
    assert (low, high) == bootstrap(scores, "events.trigger", samples=500, seed=7)
    assert 0.0 <= low < point < high <= 1.0
    assert (low, high) != bootstrap(scores, "events.trigger", samples=500, seed=8)
    narrow = bootstrap(scores, "events.trigger", samples=500, seed=7, confidence=0.5)
    assert low <= narrow[0] <= narrow[1] <= high


def test_bootstrap_of_a_perfect_run_and_of_no_documents() -> None:
    perfect = [trigger_doc(str(i), 2, 2, 0) for i in range(5)]
    assert bootstrap(perfect, "events.trigger") == (1.0, 1.0)
    assert bootstrap(perfect, "quotes.content") == (0.0, 0.0)
    with pytest.raises(ValueError, match="field keys"):
        bootstrap(perfect, "trigger")


def test_bootstrap_of_token_overlap() -> None:
    text = "a b c d"
    scores = [
        score_document(
            "quotes", [Quote(content=sp(text, p))], [Quote(content=sp(text, g))], text, "exact"
        )
        for p, g in [("a b", "b c"), ("a b c", "a b c"), ("d", "c d")]
    ]
    point = aggregate(scores)["quotes.content_token"].f1
    low, high = bootstrap(scores, "quotes.content_token", samples=300)
    assert low <= point <= high


def test_paired_bootstrap_of_identical_runs() -> None:
    scores = corpus()
    assert paired_bootstrap(scores, scores, "events.trigger") == (0.0, 0.0, 0.0, 0.0)


def test_paired_bootstrap_pairs_by_document_id() -> None:
    a = [trigger_doc(str(i), 4, 2, 1) for i in range(10)]  # F1 4/(4+1+2) = 4/7
    b = [trigger_doc(str(i), 4, 4 if i % 2 else 3, 0) for i in range(10)]  # better everywhere
    delta, low, high, p_worse = paired_bootstrap(a, b, "events.trigger", seed=3)
    # B: tp 35, fn 5 -> F1 70/75
    assert delta == pytest.approx(70 / 75 - 4 / 7)
    assert 0 < low <= delta <= high
    assert p_worse == 0.0
    assert paired_bootstrap(a, b[::-1], "events.trigger", seed=3) == (delta, low, high, p_worse)
    back = paired_bootstrap(b, a, "events.trigger", seed=3)
    assert back[0] == pytest.approx(-delta) and back[3] == 1.0


def test_paired_bootstrap_needs_the_same_documents() -> None:
    a = [trigger_doc(str(i), 1, 1, 0) for i in range(3)]
    with pytest.raises(ValueError, match="different documents"):
        paired_bootstrap(a, a[:2], "events.trigger")
    with pytest.raises(ValueError, match="more than once"):
        paired_bootstrap(a + a[:1], a, "events.trigger")


def test_resampled_sums_drawn_in_blocks_equal_drawing_them_all_at_once() -> None:
    """The bootstrap draws its resamples a block at a time so that memory stays bounded;
    the sums must be those of the whole draw at once (what a run record's intervals were)."""
    for documents in (1, 7, 84, 1000):
        counts = np.random.default_rng(documents).integers(0, 9, size=(documents, 5)).astype(float)
        draws = np.random.default_rng(4).integers(0, documents, size=(333, documents))
        whole = counts[draws].sum(axis=1)
        for at_once in (1, 5, 100, 1 << 20):
            blocks = resampled_sums(counts, 333, 4, draws_at_once=at_once)
            assert np.array_equal(blocks, whole), (documents, at_once)


def test_intervals_of_all_fields_at_once_equal_one_field_at_a_time() -> None:
    pred, gold = event_fixture()
    scores = [trigger_doc(str(i), 3, i % 4, i % 3) for i in range(30)]
    scores += [score_document("events", pred, gold, EVENT_TEXT, "iou", doc_id="e")]
    table = ScoreTable.of(scores)
    keys = sorted(table.aggregate())
    together = table.intervals(keys, samples=200, seed=5)
    assert together == {key: bootstrap(scores, key, samples=200, seed=5) for key in keys}


def test_score_table_counts_a_field_some_documents_lack_as_zeros() -> None:
    full = DocumentScore("a", "events", {"trigger": Counts(1, 0, 0), "type": Counts(1, 1, 0)})
    part = DocumentScore("b", "events", {"trigger": Counts(0, 1, 1)})
    late = DocumentScore("c", "events", {"type": Counts(2, 0, 0)}, pairs={"type": [("AID", "AID")]})
    result = ScoreTable.of([part, full, late]).aggregate()
    assert (result["events.type"].tp, result["events.type"].fp) == (3, 1)
    assert result["events.type"].documents == 3
    assert result["events.type"].scored_documents == 2  # b counted nothing for it
    assert result["events.trigger"].macro_f1 == pytest.approx((0.0 + 1.0) / 2)
    assert ScoreTable.of([part, full, late]).confusion("events.type") == {"AID": {"AID": 1}}


def test_per_document_f1_of_a_table() -> None:
    scores = [trigger_doc("a", 2, 2, 0), trigger_doc("b", 2, 1, 1), trigger_doc("c", 0, 0, 0)]
    f1 = ScoreTable.of(scores).document_f1("events.trigger")
    assert f1 == [("a", 1.0), ("b", 0.5), ("c", 0.0)]
    assert ScoreTable().document_f1("quotes.content") == []


# --- confusion ----------------------------------------------------------------------------


def test_confusion_counts() -> None:
    pred, gold = event_fixture()
    one = score_document("events", pred, gold, EVENT_TEXT, "exact", doc_id="1")
    two = score_document("events", pred[:1], gold[:1], EVENT_TEXT, "exact", doc_id="2")
    assert confusion([one, two], "events.type") == {
        "ASSAULT": {"ASSAULT": 2},
        "AID": {"SUPPORT": 1},
        "COERCE": {"MISSED": 1},
        "SPURIOUS": {"AGREE": 1},
    }
    stance_score = score_document("stances", *stance_fixture(), STANCE_TEXT, "exact")
    assert confusion([one, stance_score], "stances.polarity") == {
        "support": {"support": 1, "neutral": 1},
        "oppose": {"support": 1, "oppose": 1},
    }
    assert confusion([one], "quotes.kind") == {}


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet='ab .,\n"\u201c\u201d\u201e', max_size=40),
    start=st.integers(-2, 42),
    length=st.integers(0, 12),
)
def test_a_content_is_direct_when_it_has_a_mark_or_an_end_inside_a_quotation(
    text: str, start: int, length: int
) -> None:
    """The DIRECT rule as documented, checked against the quotation scanner's own mask."""
    start = max(0, min(start, len(text)))
    end = min(start + length, len(text))
    span = Span(text=text[start:end], start=start, end=end)
    mask = quoted_mask(text)
    ends = (start, max(start, end - 1))
    expected = bool(set(span.text) & QUOTE_MARKS) or any(i < len(mask) and mask[i] for i in ends)
    assert is_direct(span, text) == expected
