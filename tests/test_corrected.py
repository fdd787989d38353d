"""``corrected`` and ``dropped``: what was changed in an emitted record, and what was not emitted.

A record the pipeline kept after substituting an option the model picked, or after removing
a field the article does not hold, is emitted: its changes are listed in ``corrected`` with
the record's passage in the article. ``dropped`` lists only what was not emitted, and no
reason in either names an item by its place in one chunk's answer (``events[1]``), which
matches nothing in the document's lists.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from llmextract import DocumentResult, extract
from llmextract.choices import find_candidates
from llmextract.chunking import make_chunks
from llmextract.render import ViewDocument, view_model
from llmextract.testing import Reply, ScriptedServer
from tests import reliability
from tests.conftest import SAMPLE, run_cli, settings_for
from tests.test_extract_server import INVENTED, MAYOR

pytestmark = pytest.mark.faults

AREA = "output contract"
PER_CHUNK_INDEX = re.compile(r"\b(quotes|events|stances)\[\d+\]")


def passages(records: list[Any]) -> list[tuple[int, int]]:
    return [(r.passage.start, r.passage.end) for r in records]


def corrections_sit_on_emitted_records(text: str, result: DocumentResult) -> bool:
    """Every correction names an emitted record of its task by that record's passage."""
    for correction in result.corrected:
        emitted = passages(getattr(result, correction.task))
        if (correction.start, correction.end) not in emitted:
            return False
        if text[correction.start : correction.end] != correction.text:
            return False
    return True


def no_per_chunk_index(result: DocumentResult) -> bool:
    reasons = [d.reason for d in result.dropped] + [c.reason for c in result.corrected]
    return not any(PER_CHUNK_INDEX.search(reason) for reason in reasons)


def test_a_substituted_event_type_is_a_correction_of_an_emitted_event(
    scripted_server: ScriptedServer, sample_text: str
) -> None:
    offered = len(find_candidates("events", sample_text))
    scripted_server.enqueue(Reply(arguments={"decisions": [{"type": 2}] * offered}))
    settings = settings_for(scripted_server.url, prompt_style="choose")
    result = extract(sample_text, tasks=["events"], settings=settings)
    assert len(result.events) == offered  # each event is kept with its only listed type
    handled = (
        result.dropped == []
        and [(c.start, c.end) for c in result.corrected] == passages(result.events)
        and [c.reason for c in result.corrected]
        == [
            f"type option 2 was not offered; used option 1 ({e.type.value if e.type else e.kind})"
            for e in result.events
        ]
        and all(c.field == "type" and c.item == {"type": 2} for c in result.corrected)
        and corrections_sit_on_emitted_records(sample_text, result)
    )
    assert reliability.probe(AREA, "a substituted option is a correction, not a drop", handled)


def test_records_merged_away_leave_no_correction_behind(scripted_server: ScriptedServer) -> None:
    """Overlapping chunks find the same events twice; each emitted event has one correction."""
    text = SAMPLE.read_text(encoding="utf-8")
    chunks = make_chunks(text, max_chars=600, overlap_chars=400)
    counts = [len(find_candidates("events", chunk.text)) for chunk in chunks]
    assert len(chunks) >= 3 and sum(counts) > len(find_candidates("events", text))
    scripted_server.enqueue(
        *[Reply(arguments={"decisions": [{"type": 2}] * n}) for n in counts if n]
    )
    settings = settings_for(scripted_server.url, prompt_style="choose", chunk_chars=600)
    result = extract(text, tasks=["events"], settings=settings)
    emitted = passages(result.events)
    assert len(emitted) == len(set(emitted)) == len(find_candidates("events", text))
    handled = (
        [(c.start, c.end) for c in result.corrected] == emitted
        and result.dropped == []
        and corrections_sit_on_emitted_records(text, result)
    )
    assert reliability.probe(AREA, "one correction per record found in two chunks", handled)


def test_a_quote_merged_into_another_keeps_only_the_emitted_ones_corrections(
    scripted_server: ScriptedServer, sample_text: str
) -> None:
    candidates = find_candidates("quotes", sample_text)
    scripted_server.enqueue(
        Reply(arguments={"decisions": [{"quote": True, "speaker": 3}] * len(candidates)})
    )
    settings = settings_for(scripted_server.url, prompt_style="choose")
    result = extract(sample_text, tasks=["quotes"], prompts="v2", settings=settings)
    assert len(result.quotes) < len(candidates)  # a nested candidate merged into its host
    with_speaker = [q for q in result.quotes if q.speaker is not None]
    handled = (
        [(c.start, c.end) for c in result.corrected] == passages(with_speaker)
        and all(
            c.reason == f"speaker option 3 was not offered; used option 1 ({q.speaker.text})"
            for c, q in zip(result.corrected, with_speaker, strict=True)
            if q.speaker is not None
        )
        and result.dropped == []
    )
    assert reliability.probe(AREA, "no correction of a merged-away quote", handled)


def test_a_removed_name_and_a_removed_span_are_corrections(
    scripted_server: ScriptedServer, sample_text: str
) -> None:
    scripted_server.enqueue(Reply(arguments={"quotes": [MAYOR | {"speaker_name": "Marie Curie"}]}))
    # An ungrounded cue fails validation; once the re-asks are spent the quote is kept
    # without it.
    scripted_server.enqueue(*[Reply(arguments={"quotes": [MAYOR | {"cue": "exclaimed"}]})] * 3)
    settings = settings_for(scripted_server.url)
    named = extract(sample_text, tasks=["quotes"], settings=settings)
    cued = extract(sample_text, tasks=["quotes"], settings=settings)
    assert named.quotes[0].speaker_name is None and cued.quotes[0].cue is None
    handled = (
        named.dropped == [] == cued.dropped
        and [(c.field, c.reason) for c in named.corrected]
        == [("speaker_name", "speaker_name 'Marie Curie' removed: not in the article")]
        and [(c.field, c.reason) for c in cued.corrected]
        == [("cue", "cue 'exclaimed' removed: not in the article")]
        and named.corrected[0].text == MAYOR["content"] == cued.corrected[0].text
        and named.corrected[0].item is not None
        and named.corrected[0].item["speaker_name"] == "Marie Curie"
    )
    assert reliability.probe(AREA, "a removed field of a kept record is a correction", handled)


def test_dropped_reasons_say_where_not_which_chunk_item(
    scripted_server: ScriptedServer, sample_text: str
) -> None:
    text = "Mayor Elena Ruiz and Councillor Tom Baker both backed the harbour wall on Tuesday."
    settings = settings_for(scripted_server.url)
    scripted_server.enqueue(*[Reply(arguments={"quotes": [MAYOR, INVENTED]})] * 3)
    invented = extract(sample_text, tasks=["quotes"], settings=settings)
    scripted_server.enqueue(Reply(arguments={"quotes": [MAYOR, MAYOR]}))
    repeated = extract(sample_text, tasks=["quotes"], settings=settings)
    unheld = {"holder": "Queen Maud", "target": "the wall", "polarity": "support",
              "evidence": "both backed the harbour wall"}  # fmt: skip
    scripted_server.enqueue(*[Reply(arguments={"stances": [unheld]})] * 3)
    holderless = extract(text, tasks=["stances"], settings=settings)
    start = text.index(unheld["evidence"])
    mayor = sample_text.index(MAYOR["content"])
    [lottery], [repeat], [stance] = invented.dropped, repeated.dropped, holderless.dropped
    handled = (
        all(map(no_per_chunk_index, (invented, repeated, holderless)))
        and lottery.reason.startswith("item 2 of the answer: content ")
        and "is not in the article" in lottery.reason
        and repeat.reason.startswith(f"item 2 of the answer repeats the quote at {mayor}-")
        and stance.reason.startswith(f"the stance at {start}-{start + 28} ")
        and "holder 'Queen Maud' is not in the article" in stance.reason
        and invented.corrected == repeated.corrected == holderless.corrected == []
    )
    assert reliability.probe(AREA, "dropped reasons give a document position", handled), [
        d.reason for r in (invented, repeated, holderless) for d in r.dropped
    ]


def test_the_cli_reports_corrections_apart_from_drops(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    """What a user sees: ``corrected`` beside the records, ``dropped`` empty, the view too."""
    text = SAMPLE.read_text(encoding="utf-8")
    offered = len(find_candidates("events", text))
    scripted_server.enqueue(Reply(arguments={"decisions": [{"type": 2}] * offered}))
    output, html = tmp_path / "out.json", tmp_path / "view.html"
    done = run_cli("extract", str(SAMPLE), "-t", "events", "--prompt", "events.v3",
                   "--base-url", scripted_server.url, "--model", "m", "-o", str(output),
                   "--html", str(html))  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = json.loads(output.read_text(encoding="utf-8"))
    result = DocumentResult.model_validate(data)
    view = view_model(ViewDocument(result.id, text, result))
    shown = json.loads(
        re.search(r'id="data">(.*?)</script>', html.read_text(encoding="utf-8"), re.S).group(1)  # type: ignore[union-attr]
    )["documents"][0]
    handled = (
        data["dropped"] == []
        and len(data["corrected"]) == len(data["events"]) == offered
        and set(data["corrected"][0]) == {"task", "start", "end", "text", "field", "reason", "item"}
        and all(text[c["start"] : c["end"]] == c["text"] for c in data["corrected"])
        and no_per_chunk_index(result)
        and shown == view
        and view["dropped"] == []
        and all(len(r["corrections"]) == 1 for r in view["records"])
    )
    assert reliability.probe(AREA, "extract CLI: corrections apart from drops", handled), data
    # An output written before ``corrected`` existed still loads.
    del data["corrected"]
    assert DocumentResult.model_validate(data).corrected == []


def test_a_salvaged_answer_keeps_each_item_at_its_place_in_the_answer(
    scripted_server: ScriptedServer, sample_text: str
) -> None:
    """An invalid decision is dropped; the decisions after it still decide their own
    candidates, and reasons number the items as the model did."""
    candidates = find_candidates("events", sample_text)
    decisions: list[dict[str, Any]] = [{"type": 0}] * len(candidates)
    decisions[0], decisions[1], decisions[-1] = {"type": 1}, {"type": 9}, {"type": 1}
    scripted_server.enqueue(*[Reply(arguments={"decisions": decisions})] * 3)
    settings = settings_for(scripted_server.url, prompt_style="choose")
    result = extract(sample_text, tasks=["events"], settings=settings)
    first, second, last = candidates[0], candidates[1], candidates[-1]
    [invalid] = result.dropped
    handled = (
        passages(result.events) == [(first.start, first.end), (last.start, last.end)]
        and invalid.reason.startswith(f"the event at {second.start}-{second.end} ")
        and invalid.item == {"type": 9}
    )
    assert reliability.probe(AREA, "salvaged decisions stay with their candidates", handled), (
        passages(result.events),
        invalid.reason,
    )
