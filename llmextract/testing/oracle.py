"""The oracle: a test-server "model" that answers from gold annotations, to measure the pipeline.

Given gold documents (the gold JSONL format, :mod:`llmextract.evaluation.gold`), the oracle
finds which document and which passage of it a request shows (the text between the
``<article>`` lines, looked up by the first characters of its sentences), and answers:

* a **copy prompt** (the task's draft schema, :mod:`llmextract.drafts`) with the gold records
  whose passage lies inside the passage shown, in article order, each field copied from the
  gold (a speaker, cue or argument outside the passage is left empty: the model cannot see
  it). Noise (:mod:`llmextract.testing.noise`) then spoils the answer as a real model would.
* a **choice prompt** (:mod:`llmextract.choices`) with one decision per numbered candidate:
  the candidates are found again in the passage as the pipeline finds them, paired one to
  one with the gold records (:func:`llmextract.evaluation.matching.match`, token overlap for
  events, IoU for the others, as the eval configs score them), and a paired candidate is kept
  with the option naming the gold speaker, type or polarity (option 1 when none of the
  listed ones is the gold's), an unpaired one turned down. This measures the ceiling of the
  choice path: what it scores when the model decides perfectly.

Like a real server, an answer longer than the request's ``max_tokens`` is cut there with
``finish_reason="length"``; tokens are counted as characters / 4 (a common rule of thumb for
English; real tokenizers differ by a few tens of percent either way).

How each task's gold record becomes an answer item lives in one table, :data:`TASK_ANSWERS`,
keyed by task name, and :func:`task_answer` gives it for a user task too
(:mod:`llmextract.tasks`, loaded from ``tasks_files``): the gold's records of the task
(``"claims": [...]``, read by :func:`llmextract.evaluation.generic.iter_gold`), each answered
with :func:`llmextract.tasks.copy_answer` for the passage shown. The noise profiles spoil a
user task's answers as they do the built-in ones, on its key span (boundary, invented and
paraphrased passages) and its top-level span fields (normalised), and as a whole (json,
verbose); ``speaker`` changes nothing there, since a user task declares no full-name field.
User tasks have no choice prompt.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmextract.chunking import split_sentences
from llmextract.evaluation.generic import UserGold, iter_gold
from llmextract.evaluation.gold import GoldDocument
from llmextract.evaluation.matching import SpanCriterion, match
from llmextract.schemas import TASKS, Event, Quote, Span, Stance, Task
from llmextract.tasks import (
    check_gold_records,
    copy_answer,
    get_task,
    load_task_files,
    user_task_names,
)
from llmextract.testing.answers import (
    JSONDict,
    _detect_task,
    _requested_schema,
    chosen_tool,
    message_text,
    messages,
)
from llmextract.testing.noise import NoiseProfile, Slot, apply, noise_profile, pad

__all__ = [
    "CHARS_PER_TOKEN",
    "TASK_ANSWERS",
    "GoldIndex",
    "Oracle",
    "TaskAnswer",
    "long_document",
    "task_answer",
]

CHARS_PER_TOKEN = 4
_KEY_CHARS = 40  # a passage is looked up by this many characters from a sentence start
_ARTICLE = re.compile(
    r"^[ \t]*<article>[ \t]*\r?\n(.*?)(?:\r?\n[ \t]*</article>[ \t]*$|\Z)", re.M | re.S
)
_CANDIDATE_LINE = re.compile(r"^\d+\. .*$", re.MULTILINE)
_CHOICE_GROUP = 16  # candidates per choice request (llmextract.prompts)
_CLIP = 240  # how long a candidate's text is shown (llmextract.prompts)


# ---------------------------------------------------------------------------
# What a gold record answers, per task
# ---------------------------------------------------------------------------


def _inside(span: Span | None, start: int, end: int) -> bool:
    return span is not None and start <= span.start and span.end <= end


def _seen(span: Span | None, start: int, end: int) -> str | None:
    """A companion span's text if the passage shown holds it, else None."""
    return span.text if span is not None and _inside(span, start, end) else None


def _quote_item(record: Any, passage: str, start: int) -> JSONDict:
    quote: Quote = record
    end = start + len(passage)
    return {
        "content": quote.content.text,
        "speaker": _seen(quote.speaker, start, end) or "",
        "speaker_name": quote.speaker_name,
        "cue": _seen(quote.cue, start, end) or "",
        "kind": quote.kind,
    }


def _event_item(record: Any, passage: str, start: int) -> JSONDict:
    event: Event = record
    end = start + len(passage)
    return {
        "type": None if event.type is None else event.type.value,
        "kind": event.kind or getattr(event, "source_type", None),
        "trigger": event.trigger.text,
        **{role: _seen(getattr(event, role), start, end) for role in _EVENT_ROLES},
        "summary": event.summary,
    }


def _stance_item(record: Any, passage: str, start: int) -> JSONDict | None:
    stance: Stance = record
    end = start + len(passage)
    holder = _seen(stance.holder, start, end)
    if stance.holder is not None and holder is None:
        return None  # whose stance it is shows in another chunk: answered there
    return {
        "holder": holder,
        "holder_name": stance.holder_name,
        "target": stance.target,
        "polarity": stance.polarity,
        "evidence": stance.evidence.text,
    }


_EVENT_ROLES = ("actor", "recipient", "location", "time")


def _quote_decision(fields: set[str], record: Any, candidate: Any, offset: int) -> JSONDict:
    if record is None:
        return {"speaker": 0} if "quote" not in fields else {"quote": False, "speaker": 1}
    quote: Quote = record
    speaker = 1
    for number, mention in enumerate(candidate.speakers[:3], start=1):
        at = Span(text=mention.text, start=offset + mention.start, end=offset + mention.end)
        names = {n.casefold() for n in (mention.text, mention.resolved) if n}
        gold = {n.casefold() for n in (quote.speaker_name,) if n}
        if quote.speaker is not None:
            gold.add(quote.speaker.text.casefold())
        overlaps = quote.speaker is not None and _overlap(at, quote.speaker)
        if overlaps or names & gold:
            speaker = number
            break
    return {"quote": True, "speaker": speaker} if "quote" in fields else {"speaker": speaker}


def _event_decision(fields: set[str], record: Any, candidate: Any, offset: int) -> JSONDict:
    if record is None:
        return {"type": 0}
    types = [t.value for t in candidate.types[:3]]
    gold = None if record.type is None else record.type.value
    return {"type": types.index(gold) + 1 if gold in types else 1}


def _stance_decision(fields: set[str], record: Any, candidate: Any, offset: int) -> JSONDict:
    if record is not None:
        return {"polarity": record.polarity}
    return {"polarity": "none" if "none" in fields else candidate.polarity_hint or "neutral"}


def _overlap(a: Span, b: Span) -> bool:
    return min(a.end, b.end) > max(a.start, b.start)


@dataclass(frozen=True)
class TaskAnswer:
    """How the oracle answers one task: its gold records, the answer item of one (given the
    passage shown and where it starts in the article), and the decision about one candidate
    of a choice prompt (given its paired record or None)."""

    records: Callable[[GoldDocument], Sequence[Any]]
    item: Callable[[Any, str, int], JSONDict | None]  # None: not answerable from this passage
    passage: str  # the item field that holds the record's passage
    copied: tuple[str, ...]  # the item fields copied from the article
    names: tuple[tuple[str, str], ...]  # (who field, full-name field)
    # None: the task has no choice prompt (a user task).
    decide: Callable[[set[str], Any, Any, int], JSONDict] | None = None
    criterion: SpanCriterion = "iou"  # how candidates are paired with gold records
    context: bool = True  # the copy schema has a ``context`` field for repeated words


TASK_ANSWERS: dict[str, TaskAnswer] = {
    "quotes": TaskAnswer(
        records=lambda document: document.quotes,
        item=_quote_item,
        passage="content",
        copied=("content", "speaker", "cue"),
        names=(("speaker", "speaker_name"),),
        decide=_quote_decision,
        criterion="iou",
    ),
    "events": TaskAnswer(
        records=lambda document: document.events,
        item=_event_item,
        passage="trigger",
        copied=("trigger", *_EVENT_ROLES),
        names=(),
        decide=_event_decision,
        criterion="token",
    ),
    "stances": TaskAnswer(
        records=lambda document: document.stances,
        item=_stance_item,
        passage="evidence",
        copied=("holder", "evidence"),
        names=(("holder", "holder_name"),),
        decide=_stance_decision,
        criterion="iou",
    ),
}


def task_answer(name: str) -> TaskAnswer:
    """How the oracle answers task ``name``: its entry of :data:`TASK_ANSWERS`, or for a user
    task its gold records copied by :func:`llmextract.tasks.copy_answer`."""
    if name in TASK_ANSWERS:
        return TASK_ANSWERS[name]
    spec = get_task(name)

    def records(document: GoldDocument) -> Sequence[Any]:
        gold = document.records.get(name, []) if isinstance(document, UserGold) else []
        return check_gold_records(name, gold)

    def item(record: Any, passage: str, start: int) -> JSONDict | None:
        items = copy_answer(name, [record.model_dump(mode="json")], passage, start)[name]
        return items[0] if items else None

    return TaskAnswer(
        records=records,
        item=item,
        passage=spec.key,
        copied=tuple(field for field in spec.spans if "." not in field),
        names=(),
        context=False,  # a user task's schema is the user's model: it has no context field
    )


# ---------------------------------------------------------------------------
# Finding the passage
# ---------------------------------------------------------------------------


class GoldIndex:
    """Gold documents indexed by the first characters of each sentence, so that the document
    and offset of a passage (which starts at a sentence) are found without a scan."""

    def __init__(self, documents: Sequence[GoldDocument]) -> None:
        self.documents = list(documents)
        self._starts: dict[str, list[tuple[int, int]]] = {}
        for number, document in enumerate(self.documents):
            for start, _ in split_sentences(document.text):
                key = document.text[start : start + _KEY_CHARS]
                self._starts.setdefault(key, []).append((number, start))

    def locate(self, passage: str) -> tuple[GoldDocument, int] | None:
        """The document holding ``passage`` and where it starts; a scan of every document
        when the passage starts elsewhere than a sentence."""
        if not passage:
            return None
        for number, start in self._starts.get(passage[:_KEY_CHARS], ()):
            document = self.documents[number]
            if document.text.startswith(passage, start):
                return document, start
        for document in self.documents:
            at = document.text.find(passage)
            if at >= 0:
                return document, at
        return None


def _passage(body: JSONDict) -> str | None:
    """The text between ``<article>`` lines of the last message that has them."""
    for message in reversed(messages(body)):
        if isinstance(message, dict) and message.get("role") != "assistant":
            found = _ARTICLE.search(message_text(message))
            if found:
                # An article file's final newline is not in the gold text, and holds no record.
                return found.group(1).rstrip()
    return None


# ---------------------------------------------------------------------------
# The oracle
# ---------------------------------------------------------------------------


class Oracle:
    """Answers requests from gold documents, spoiled by a seeded noise profile.

    :meth:`reply` gives the :class:`~llmextract.testing.server.Reply` fields for a request,
    or None for a request of no task (the server then answers as it does without an oracle).
    """

    def __init__(
        self, documents: Iterable[GoldDocument], *, noise: str = "clean", seed: int = 0
    ) -> None:
        self.index = GoldIndex(list(documents))
        self.noise: NoiseProfile = noise_profile(noise)
        self.seed = seed

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        *,
        noise: str = "clean",
        seed: int = 0,
        tasks_files: Iterable[str | Path] = (),
    ) -> Oracle:
        """The oracle of a gold file, with the records of the user tasks that
        ``tasks_files`` declare (a task file that does not load is a ConfigError)."""
        load_task_files(Path(file) for file in tasks_files)
        return cls(iter_gold(path), noise=noise, seed=seed)

    def describe(self) -> str:
        """What the server prints and reports: documents, noise profile and seed."""
        return (
            f"{len(self.index.documents)} gold documents, noise {self.noise.describe()}, "
            f"seed {self.seed}"
        )

    def reply(self, body: JSONDict) -> JSONDict | None:
        """The Reply fields answering ``body``, or None if it asks for no task."""
        task = _user_task(body) or _detect_task(body)
        if task is None:
            return None
        passage = _passage(body)
        found = None if passage is None else self.index.locate(passage)
        rng = random.Random(f"{self.seed}:{_digest(body)}")  # noqa: S311 - noise, not secrets
        if task == "decisions":
            answer = {"decisions": self._decisions(body, passage, found)}
            return self._sent(body, json.dumps(answer, ensure_ascii=False), rng, allow_noise=False)
        spec = task_answer(task)
        slots: list[Slot] = []
        if found is not None and passage is not None:
            document, start = found
            end = start + len(passage)
            records = [r for r in spec.records(document) if _inside(r.passage, start, end)]
            for record in sorted(records, key=lambda r: (r.passage.start, r.passage.end)):
                item = spec.item(record, passage, start)
                if item is None:
                    continue
                around = _context(passage, record.passage.start - start, record.passage.end - start)
                if around is not None and spec.context:
                    item["context"] = around
                slots.append(
                    Slot(
                        item=item,
                        window=passage,
                        start=record.passage.start - start,
                        end=record.passage.end - start,
                        passage=spec.passage,
                        copied=spec.copied,
                        names=spec.names,
                    )
                )
        items = apply(self.noise, slots, rng)
        if self.noise.verbose and rng.random() < self.noise.verbose:
            items = pad(items, rng)
        return self._sent(body, json.dumps({task: items}, ensure_ascii=False), rng)

    def _sent(
        self, body: JSONDict, text: str, rng: random.Random, *, allow_noise: bool = True
    ) -> JSONDict:
        """Reply fields for answer ``text``: spoilt if the profile breaks this answer, cut off
        at the request's max_tokens."""
        headers = {"x-oracle-noise": self.noise.name, "x-oracle-seed": str(self.seed)}
        fields: JSONDict = {"headers": headers}
        if allow_noise and self.noise.broken and rng.random() < self.noise.broken:
            way = rng.randrange(3)
            if way == 0 and chosen_tool(body) is not None:
                return {**fields, "raw": text, "no_tool_call": True}
            if way == 1:
                return {**fields, "arguments": {"answer": "see below", "items": json.loads(text)}}
            return {**fields, "raw": text.rstrip("}") + ",}"}
        budget = _max_tokens(body)
        if budget is not None and len(text) > budget * CHARS_PER_TOKEN:
            return {**fields, "raw": text[: budget * CHARS_PER_TOKEN], "finish_reason": "length"}
        return {**fields, "raw": text}

    def _decisions(
        self, body: JSONDict, passage: str | None, found: tuple[GoldDocument, int] | None
    ) -> list[JSONDict]:
        """One decision per candidate the request shows (see the module's docstring)."""
        from llmextract.choices import find_candidates  # the candidates the pipeline offers

        task, lines = _choice_task(body), _candidate_lines(body)
        spec = None if task is None else task_answer(task)
        if task is None or spec is None or spec.decide is None or passage is None:
            return []
        decide = spec.decide
        candidates = find_candidates(task, passage)
        first = _group_start(task, candidates, lines)
        group = candidates[first : first + len(lines)]
        fields = _decision_fields(body)
        paired: dict[int, Any] = {}
        if found is not None:
            document, start = found
            end = start + len(passage)
            records = [r for r in spec.records(document) if _inside(r.passage, start, end)]
            spans = [
                Span(text=passage[c.start : c.end], start=start + c.start, end=start + c.end)
                for c in candidates
            ]
            gold = [r.passage for r in records]
            paired = {c: records[g] for c, g in match(spans, gold, document.text, spec.criterion)}
        offset = 0 if found is None else found[1]
        return [
            decide(fields, paired.get(first + number), candidate, offset)
            for number, candidate in enumerate(group)
        ]


_CONTEXT_WORDS = 4  # words on each side of a passage whose words occur more than once


def _context(window: str, start: int, end: int) -> str | None:
    """The passage with a few words around it, as the copy prompts ask for when its words
    occur more than once in the text shown; None when they occur once."""
    words = window[start:end]
    if window.count(words) < 2:
        return None
    before = [m.start() for m in re.finditer(r"\S+", window[:start])][-_CONTEXT_WORDS:]
    after = [m.end() for m in re.finditer(r"\S+", window[end:])][:_CONTEXT_WORDS]
    return window[before[0] if before else start : end + (after[-1] if after else 0)]


def _user_task(body: JSONDict) -> str | None:
    """The user task whose list the requested schema asks for, if any."""
    properties = (_requested_schema(body) or {}).get("properties")
    if not isinstance(properties, dict):
        return None
    return next((name for name in user_task_names() if name in properties), None)


def _digest(body: JSONDict) -> str:
    return hashlib.sha256(json.dumps(messages(body), sort_keys=True).encode()).hexdigest()[:16]


def _max_tokens(body: JSONDict) -> int | None:
    for name in ("max_tokens", "max_completion_tokens"):
        value = body.get(name)
        if isinstance(value, int) and value > 0:
            return value
    return None


def _choice_task(body: JSONDict) -> Task | None:
    """The task of a choice request: the one its decision's schema is named for
    (``QuoteDecision``, ``EventDecision``, ``StancePolarityDecision``, ...)."""
    schema = _requested_schema(body) or {}
    definitions = schema.get("$defs")
    names = [str(name) for name in definitions] if isinstance(definitions, dict) else []
    by_prefix: dict[str, Task] = {"Quote": "quotes", "Event": "events", "Stance": "stances"}
    for name in names:
        for prefix, task in by_prefix.items():
            if name.startswith(prefix) and name.endswith("Decision"):
                return task
    return None


def _decision_fields(body: JSONDict) -> set[str]:
    """The fields of one decision in the requested schema, plus ``none`` when the polarity
    may be turned down."""
    schema = _requested_schema(body) or {}
    definitions = schema.get("$defs", {})
    for definition in definitions.values() if isinstance(definitions, dict) else ():
        properties = definition.get("properties") if isinstance(definition, dict) else None
        if isinstance(properties, dict) and properties:
            fields = set(properties)
            polarity = properties.get("polarity")
            if isinstance(polarity, dict) and "none" in polarity.get("enum", ()):
                fields.add("none")
            return fields
    return set()


def _candidate_lines(body: JSONDict) -> list[str]:
    for message in reversed(messages(body)):
        if isinstance(message, dict) and message.get("role") == "user":
            text = _ARTICLE.sub("", message_text(message))
            if "Candidates:" in text:
                return list(_CANDIDATE_LINE.findall(text))
    return []


def _shown(task: str, candidate: Any) -> str:
    """How a choice prompt shows a candidate's text (whitespace folded, clipped)."""
    text = " ".join(candidate.text.split())
    if task != "events" and len(text) > _CLIP:
        text = text[: _CLIP - 3] + "..."
    return f'"{text}"'


def _group_start(task: str, candidates: Sequence[Any], lines: list[str]) -> int:
    """Where the request's group of candidates starts among all of the passage's."""
    for first in range(0, max(len(candidates), 1), _CHOICE_GROUP):
        group = candidates[first : first + len(lines)]
        if len(group) == len(lines) and all(
            _shown(task, c) in line for c, line in zip(group, lines, strict=True)
        ):
            return first
    return 0


# ---------------------------------------------------------------------------
# A long document made of gold articles
# ---------------------------------------------------------------------------


def long_document(
    documents: Iterable[GoldDocument],
    *,
    min_chars: int = 300_000,
    doc_id: str = "long",
    separator: str = "\n\n",
) -> GoldDocument:
    """One gold document of at least ``min_chars`` characters: gold articles joined by
    ``separator`` in order, every span shifted to its place, so that records fall across
    the chunk boundaries and overlaps of a long article. ``meta.parts`` lists the articles'
    ids and where each starts. A ValueError if the articles are too few to reach the size.
    """
    texts: list[str] = []
    records: dict[str, list[Any]] = {task: [] for task in TASKS}
    tasks: set[str] = set()
    parts: list[dict[str, Any]] = []
    size = 0
    for document in documents:
        if size >= min_chars:
            break
        offset = size + (len(separator) if texts else 0)
        texts.append(document.text)
        parts.append({"id": document.id, "start": offset})
        tasks.update(document.tasks)
        for task in TASKS:
            for record in getattr(document, task):
                records[task].append(_shifted(record.model_dump(mode="json"), offset))
        size = offset + len(document.text)
    if size < min_chars:
        raise ValueError(
            f"the documents give {size:,} characters, fewer than min_chars={min_chars:,}: "
            "give more documents or a smaller min_chars"
        )
    return GoldDocument.model_validate(
        {
            "id": doc_id,
            "text": separator.join(texts),
            "tasks": [task for task in TASKS if task in tasks],
            **records,
            "meta": {"parts": parts},
        }
    )


def _shifted(value: Any, offset: int) -> Any:
    """``value`` (a dumped record) with every span moved ``offset`` characters on."""
    if isinstance(value, dict):
        if {"text", "start", "end"} <= set(value):
            return {**value, "start": value["start"] + offset, "end": value["end"] + offset}
        return {key: _shifted(item, offset) for key, item in value.items()}
    if isinstance(value, list):
        return [_shifted(item, offset) for item in value]
    return value
