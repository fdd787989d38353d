"""The oracle server end to end: gold answers through the real HTTP path, every mode, every
noise profile, chunk boundaries, the max_tokens cut and choice answers."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from llmextract import extract
from llmextract.chunking import make_chunks
from llmextract.drafts import draft_list_for, grounding_context
from llmextract.evaluation.converters import convert
from llmextract.evaluation.counts import FieldMetrics
from llmextract.evaluation.gold import GoldDocument, GoldEvent, GoldStance, load_gold, write_gold
from llmextract.evaluation.scorers import score_document
from llmextract.evaluation.table import aggregate
from llmextract.schemas import DocumentResult, Event, Quote, Span, Stance, Task
from llmextract.settings import Settings
from llmextract.testing import ScriptedServer
from llmextract.testing.noise import PROFILES
from llmextract.testing.oracle import TASK_ANSWERS, Oracle, long_document
from tests.conftest import GOLD, ROOT, clean_environment, run_cli, settings_for

FIXTURES = ROOT / "tests" / "fixtures"
MODES = ("tools", "json_schema", "json", "md_json")
PASSAGE = {"quotes": "content", "events": "trigger", "stances": "evidence"}


def fixture_gold() -> list[GoldDocument]:
    """The hand-written gold set (every task) and the converted dataset fixtures."""
    documents = load_gold(GOLD)
    documents += convert("polnear", FIXTURES / "polnear" / "dev")
    documents += convert("wikievents", FIXTURES / "wikievents" / "dev.jsonl")
    documents += convert("basil", FIXTURES / "basil")
    return documents


@pytest.fixture(scope="module")
def gold_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("oracle") / "gold.jsonl"
    write_gold(fixture_gold(), path)
    return path


def with_mode(settings: Settings, mode: str) -> Settings:
    endpoint = dataclasses.replace(settings.endpoint, mode=mode)  # type: ignore[arg-type]
    return dataclasses.replace(settings, endpoint=endpoint)


def run(
    server: ScriptedServer, documents: Sequence[GoldDocument], settings: Settings, **options: Any
) -> Iterator[tuple[GoldDocument, DocumentResult]]:
    tasks = options.pop("tasks", None)
    for document in documents:
        result = extract(document.text, tasks=tasks or document.tasks, settings=settings, **options)
        yield document, result


def scores(pairs: Sequence[tuple[GoldDocument, DocumentResult]]) -> dict[str, FieldMetrics]:
    """Aggregated scores per ``task.field`` (IoU matching)."""
    return aggregate(
        score_document(
            task, getattr(result, task), getattr(doc, task), doc.text, "iou", doc_id=doc.id
        )
        for doc, result in pairs
        for task in doc.tasks
    )


# --- the copy schema can say what the gold says -------------------------------------------


def test_every_gold_record_can_be_expressed_in_the_copy_schema() -> None:
    for document in fixture_gold():
        for task in document.tasks:
            answer = TASK_ANSWERS[task]
            records = sorted(answer.records(document), key=lambda r: r.passage.start)
            items = [answer.item(r, document.text, 0) for r in records]
            assert None not in items
            grounded = draft_list_for(task).model_validate(
                {task: items}, context=grounding_context(document.text)
            )
            assert grounded.dropped == [], (document.id, grounded.dropped)
            got = [(r.passage.start, r.passage.end) for r in grounded.records]
            assert got == [(r.passage.start, r.passage.end) for r in records], document.id
            for made, gold in zip(grounded.records, records, strict=True):
                assert_same_record(made, gold)


def assert_same_record(made: Any, gold: Any) -> None:
    """The same record: passages by offsets (checked by the caller), who said or did what by
    their words (grounding puts a companion at its occurrence nearest the passage)."""
    if isinstance(made, Quote):
        assert (words(made.speaker), words(made.cue), made.kind) == (
            words(gold.speaker),
            words(gold.cue),
            gold.kind,
        )
    elif isinstance(made, Event):
        assert (made.type, made.kind) == (gold.type, gold.kind or gold.source_type)
        roles = ("actor", "recipient", "location")
        assert [words(getattr(made, r)) for r in roles] == [words(getattr(gold, r)) for r in roles]
    else:
        assert isinstance(made, Stance)
        assert (words(made.holder), made.target, made.polarity) == (
            words(gold.holder),
            gold.target,
            gold.polarity,
        )


def words(span: Span | None) -> str | None:
    return None if span is None else span.text


def test_the_fixtures_hold_untyped_events_and_writers_stances() -> None:
    documents = fixture_gold()
    assert any(e.type is None for d in documents for e in d.events)
    assert any(s.holder is None for d in documents for s in d.stances)


# --- every mode, clean --------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_clean_oracle_gives_every_gold_record_in_every_mode(gold_file: Path, mode: str) -> None:
    documents = load_gold(gold_file)
    with ScriptedServer(oracle=gold_file) as server:
        pairs = list(run(server, documents, with_mode(settings_for(server.url), mode)))
    counts = scores(pairs)
    for key in ("quotes.content", "quotes.speaker", "quotes.cue", "events.trigger",
                "events.type", "stances.evidence", "stances.polarity"):  # fmt: skip
        assert counts[key].f1 == 1.0, (mode, key, counts[key])
    assert all(not result.dropped for _, result in pairs)


def test_an_untyped_event_comes_out_with_its_kind(gold_file: Path) -> None:
    documents = [d for d in load_gold(gold_file) if any(e.type is None for e in d.events)]
    with ScriptedServer(oracle=gold_file) as server:
        [(_, result), *_] = run(server, documents, settings_for(server.url))
    untyped = [e for e in result.events if e.type is None]
    assert untyped and all(e.kind for e in untyped)


# --- noise profiles -----------------------------------------------------------------------


@pytest.mark.parametrize("noise", sorted(PROFILES))
def test_every_noise_profile_keeps_output_grounded(gold_file: Path, noise: str) -> None:
    documents = load_gold(gold_file)
    with ScriptedServer(oracle=gold_file, noise=noise, seed=3) as server:
        pairs = list(run(server, documents, settings_for(server.url, max_reasks=2)))
    for document, result in pairs:
        for task in document.tasks:
            golds = [r.passage for r in getattr(document, task)]
            for record in getattr(result, task):
                span = record.passage
                assert document.text[span.start : span.end] == span.text
                # Nothing invented is emitted: each passage is (part of) a gold passage's
                # surroundings, never words the article does not hold.
                assert span.text in document.text
                if noise in ("clean", "normalised", "hallucinate", "json", "verbose"):
                    assert any(_overlaps(span, g) for g in golds), (noise, span)
    counts = scores(pairs)
    if noise in ("clean", "normalised", "hallucinate", "json", "verbose", "speaker"):
        assert counts["quotes.content"].recall == 1.0, (noise, counts["quotes.content"])
        assert counts["events.trigger"].recall == 1.0, (noise, counts["events.trigger"])


def _overlaps(a: Span, b: Span) -> bool:
    return min(a.end, b.end) > max(a.start, b.start)


def test_hallucinated_passages_are_dropped_not_emitted(gold_file: Path) -> None:
    documents = load_gold(gold_file)
    with ScriptedServer(oracle=gold_file, noise="hallucinate", seed=1) as server:
        pairs = list(run(server, documents, settings_for(server.url, max_reasks=0)))
    reasons = [d.reason for _, result in pairs for d in result.dropped]
    assert any("is not in the article" in reason for reason in reasons), reasons


def test_broken_json_is_asked_again(gold_file: Path) -> None:
    documents = load_gold(gold_file)
    with ScriptedServer(oracle=gold_file, noise="json", seed=2) as server:
        pairs = list(run(server, documents, settings_for(server.url, max_reasks=6)))
    assert sum(result.usage.reasks for _, result in pairs) > 0
    assert scores(pairs)["quotes.content"].f1 == 1.0


def test_speaker_noise_is_recovered_through_the_full_name(gold_file: Path) -> None:
    documents = load_gold(GOLD)
    with ScriptedServer(oracle=gold_file, noise="speaker", seed=5) as server:
        pairs = list(run(server, documents, settings_for(server.url), tasks=["quotes"]))
    named = [q for _, result in pairs for q in result.quotes if q.speaker_name]
    assert named
    assert scores(pairs)["quotes.speaker"].recall == 1.0


# --- the max_tokens cut, chunk boundaries --------------------------------------------------


def post(url: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def test_an_answer_over_max_tokens_is_cut_like_a_real_server(gold_file: Path) -> None:
    document = load_gold(GOLD)[0]
    prompt = f"List the quotations.\n<article>\n{document.text}\n</article>"
    schema = draft_list_for("quotes").model_json_schema()
    tool = {"type": "function", "function": {"name": "QuoteList", "parameters": schema}}
    body = {"model": "any-name", "max_tokens": 20, "tools": [tool],
            "messages": [{"role": "user", "content": prompt}]}  # fmt: skip
    with ScriptedServer(oracle=gold_file) as server:
        answer = post(server.url + "/chat/completions", body)
        body["max_tokens"] = 4000
        whole = post(server.url + "/chat/completions", body)
    [choice] = answer["choices"]
    assert choice["finish_reason"] == "length"
    cut = choice["message"]["tool_calls"][0]["function"]["arguments"]
    assert len(cut) == 20 * 4
    full = whole["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]
    assert whole["choices"][0]["finish_reason"] == "tool_calls"
    assert full.startswith(cut) and len(json.loads(full)["quotes"]) == len(document.quotes)


def test_a_small_max_tokens_splits_passages_and_loses_nothing(gold_file: Path) -> None:
    documents = load_gold(GOLD)
    with ScriptedServer(oracle=gold_file) as server:
        settings = settings_for(server.url, max_tokens=120)
        pairs = list(run(server, documents, settings, tasks=["quotes"]))
        requests = len(server.requests)
    assert requests > len(documents)  # cut-off answers were split and asked again
    assert scores(pairs)["quotes.content"].f1 == 1.0


def long_quote_document() -> GoldDocument:
    """A short article whose quotation runs over four sentences."""
    said = "The mayor spoke at length. "
    words = "“" + " ".join(f"Point {n} is that the wall is late." for n in range(1, 9)) + "”"
    text = said * 14 + words + " said Mayor Ruiz. " + said * 6
    start = text.index(words)
    speaker = text.index("Mayor Ruiz", start)
    quote = Quote(
        content=Span(text=words, start=start, end=start + len(words)),
        speaker=Span(text="Mayor Ruiz", start=speaker, end=speaker + 10),
    )
    return GoldDocument(id="long-quote", text=text, tasks=["quotes"], quotes=[quote])


def test_a_long_document_across_chunk_boundaries(tmp_path: Path) -> None:
    parts = [long_quote_document(), *fixture_gold()]
    document = long_document(parts, min_chars=3000, doc_id="joined")
    path = tmp_path / "long.jsonl"
    write_gold([document], path)
    size, overlap = 600, 350  # the overlap holds the longest record (the 8-sentence quote)
    chunks = make_chunks(document.text, max_chars=size, overlap_chars=overlap)
    records = [r for task in PASSAGE for r in getattr(document, task)]
    crossing = [r for r in records if any(r.passage.start < c.end < r.passage.end for c in chunks)]
    within = [sum(c.start <= r.passage.start and r.passage.end <= c.end for c in chunks)
              for r in records]  # fmt: skip
    in_two = [r for r, count in zip(records, within, strict=True) if count > 1]
    assert len(chunks) > 5 and crossing and in_two  # records across boundaries, in overlaps
    with ScriptedServer(oracle=path) as server:
        settings = settings_for(server.url, chunk_chars=size, chunk_overlap_chars=overlap)
        pairs = list(run(server, [document], settings))
    counts = scores(pairs)
    for key in ("quotes.content", "events.trigger", "stances.evidence"):
        assert counts[key].f1 == 1.0, (key, counts[key])


def test_long_document_shifts_every_span() -> None:
    parts = load_gold(GOLD)
    joined = long_document(parts, min_chars=sum(len(p.text) for p in parts), doc_id="j")
    assert [p["id"] for p in joined.meta["parts"]] == [p.id for p in parts]
    assert len(joined.quotes) == sum(len(p.quotes) for p in parts)
    with pytest.raises(ValueError, match="fewer than min_chars"):
        long_document(parts, min_chars=10**6)


# --- choice answers ------------------------------------------------------------------------


# The prompts whose decisions can turn a candidate down (stances.v4 only gives a polarity).
CHOICE_PROMPTS = {"quotes": "quotes.v4", "events": "events.v3", "stances": "stances.v3"}


@pytest.mark.parametrize("task", ["quotes", "events", "stances"])
def test_choice_answers_keep_only_what_the_gold_holds(gold_file: Path, task: Task) -> None:
    documents = [d for d in load_gold(gold_file) if task in d.tasks]
    with ScriptedServer(oracle=gold_file) as server:
        settings = settings_for(server.url, prompt_style="choose")
        prompts = CHOICE_PROMPTS[task]
        pairs = list(run(server, documents, settings, tasks=[task], prompts=prompts))
    criterion = "token" if task == "events" else "iou"  # how the oracle pairs candidates
    counts = aggregate(
        score_document(task, getattr(r, task), getattr(d, task), d.text, criterion)
        for d, r in pairs
    )[f"{task}.{PASSAGE[task]}"]
    assert counts.tp > 0 and counts.precision == 1.0, counts


# --- the command line ----------------------------------------------------------------------


def test_the_server_command_reports_the_oracle_and_its_noise(gold_file: Path) -> None:
    command = [sys.executable, "-m", "llmextract.testing.server", "--oracle", str(gold_file),
               "--noise", "realistic", "--seed", "4"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=clean_environment())
    assert process.stdout is not None
    with process.stdout:
        try:
            url = process.stdout.readline().split()[-1]
            said = process.stdout.readline()
            with urllib.request.urlopen(url + "/models") as response:
                models = json.load(response)
        finally:
            process.terminate()
            process.wait(timeout=10)
    assert "noise realistic (normalise=0.1" in said and "seed 4" in said
    assert models["data"][0]["id"] == "oracle" and "realistic" in models["data"][0]["oracle"]


def test_eval_against_the_oracle_through_the_cli(gold_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    with ScriptedServer(oracle=gold_file, noise="clean") as server:
        done = run_cli("eval", str(gold_file), "--task", "quotes", "--base-url", server.url,
                       "--model", "oracle", "--api-key", "x", "--mode", "md_json",
                       "-o", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    record = json.loads(out.read_text())
    assert record["metrics"]["quotes.content"]["f1"] == 1.0


def test_an_unknown_noise_profile_is_refused(gold_file: Path) -> None:
    with pytest.raises(ValueError, match="unknown noise profile 'loud': use one of clean"):
        Oracle.from_file(gold_file, noise="loud")


# --- scoring of untyped events -----------------------------------------------------------------


def test_an_untyped_prediction_claims_no_type() -> None:
    text = "Troops attacked the town and the mayor died."
    attack, died = Span(text="attacked", start=7, end=15), Span(text="died", start=39, end=43)
    gold = [Event(type="ASSAULT", trigger=attack), Event(type=None, trigger=died)]
    pred = [Event(type=None, kind="attack", trigger=attack), Event(type=None, trigger=died)]
    counts = score_document("events", pred, gold, text, "exact").counts
    assert counts["trigger"].f1 == 1.0
    assert (counts["type"].tp, counts["type"].fp, counts["type"].fn) == (0, 0, 1)


def repeated_words_document() -> GoldDocument:
    """Records whose words occur more than once, inside other words too."""
    text = (
        "Ann cited it as an example of waste. Later it rained on the town. "
        "After the attack, police said the attack on the depot was planned. "
        "It was some phony ideal, some phony theology, the paper wrote."
    )

    def at(words: str, nth: int) -> Span:
        start = -1
        for _ in range(nth):
            start = text.index(words, start + 1)
        return Span(text=words, start=start, end=start + len(words))

    # "it" is also inside "cited"; the gold ones are the second occurrences.
    word = at(" it ", 2)
    quote = Quote(content=Span(text="it", start=word.start + 1, end=word.start + 3))
    event = GoldEvent(type="ASSAULT", trigger=at("attack", 2))
    stance = GoldStance(target="the plan", polarity="oppose", evidence=at("phony", 2))
    return GoldDocument(id="repeats", text=text, tasks=["quotes", "events", "stances"],
                        quotes=[quote], events=[event], stances=[stance])  # fmt: skip


def test_repeated_words_are_grounded_where_the_answer_says(tmp_path: Path) -> None:
    document = repeated_words_document()
    path = tmp_path / "repeats.jsonl"
    write_gold([document], path)
    with ScriptedServer(oracle=path) as server:
        [(_, result)] = run(server, [document], settings_for(server.url))
    for task, field in PASSAGE.items():
        got = [(r.passage.start, r.passage.end) for r in getattr(result, task)]
        want = [(r.passage.start, r.passage.end) for r in getattr(document, task)]
        assert got == want, (task, field, got, want)
