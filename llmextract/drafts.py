"""What the model fills in: bounded draft schemas whose validators ground every span.

A draft holds the model's words; grounding turns each quoted passage into a
:class:`~llmextract.schemas.Span` by finding it in the text the model was shown, which the
validators get as pydantic's validation context (:func:`grounding_context`; instructor
passes its ``context=`` on). While grounding is strict, an ungrounded span fails validation,
so instructor re-asks the model with the message; once the re-asks are spent,
:func:`salvage` keeps what can be grounded from the last answer and records the rest as
dropped. A kept record whose field was removed or whose option was replaced carries a
:class:`~llmextract.schemas.Correction`. Without that context, drafts validate as plain data
and ground nothing.

The model is told about an item by its place in its answer (``quotes[1]``); the reader, by
the item's place in the article where it is known, since one answer covers only one chunk.

No list or string has a size limit of its own: what a model answers is bounded by the
request's ``max_tokens``, and an answer cut off there is split and asked again or salvaged by
the pipeline (:mod:`llmextract.extract`), so a model that loops costs one answer's tokens.
Answers list records in the order they appear in the article, and a passage whose words occur
more than once is grounded at the first occurrence from the previous record on (see
:meth:`Grounder.passage_span`). Pure: no client, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import jiter
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from llmextract.grounding import AlignmentStatus, align_span, occurs
from llmextract.schemas import (
    Correction,
    Dropped,
    Event,
    EventType,
    Polarity,
    Quote,
    QuoteKind,
    Span,
    Stance,
    Task,
)

__all__ = [
    "Corrected",
    "Draft",
    "DraftList",
    "EventList",
    "Grounder",
    "QuoteList",
    "Source",
    "StanceList",
    "draft_list_for",
    "grounding_context",
    "salvage",
    "usable_answer",
]

_MAX_PROBLEMS_SHOWN = 6
# A record's speaker, cue or arguments are looked for this near its passage first: about a
# short sentence either side.
_COMPANION_REACH = 150
_SPEAKER_PLACEHOLDERS = frozenset({"", "unknown", "none", "null", "n/a", "unnamed"})
# A stance's holder given as one of these is the article's own stance (holder None).
_WRITER = frozenset({"writer", "the writer", "author", "the author", "article", "the article"})


_SOURCE = "llmextract.source"  # the key of the validation context that grounding reads

Corrected = tuple[Any, Correction]  # a correction with the record it belongs to


@dataclass(frozen=True)
class Source:
    """The text drafts are grounded in.

    ``offset`` is where ``text`` starts in the whole article, so spans come out in article
    coordinates; ``candidates`` are what the code found in ``text`` for the model to choose
    from (see :mod:`llmextract.choices`). ``strict``: an ungrounded span fails validation.
    """

    text: str
    offset: int = 0
    strict: bool = True
    candidates: Sequence[Any] = ()


def grounding_context(
    text: str, *, offset: int = 0, strict: bool = True, candidates: Sequence[Any] = ()
) -> dict[str, Source]:
    """The validation context that grounds drafts in ``text`` (see :class:`Source`): give it
    to ``model_validate(..., context=...)`` or to the model client's ``ask``."""
    return {_SOURCE: Source(text, offset, strict, tuple(candidates))}


def _source(context: Any) -> Source | None:
    source = context.get(_SOURCE) if isinstance(context, Mapping) else None
    return source if isinstance(source, Source) else None


@dataclass
class Grounder:
    """Grounds the fields of one item and notes what failed or changed.

    ``label`` names the item as the model's answer numbers it (``quotes[1]``), for re-asks.
    ``after`` is where the previous record's passage starts (article offset): answers list
    records in article order, so the item's passage is looked for from there on first.
    ``repeat``: the item repeats an earlier one's key, so it is grounded only at a later
    occurrence of its passage, if there is one.
    """

    source: Source
    label: str
    index: int
    after: int | None = None
    repeat: bool = False
    problems: list[str] = field(default_factory=list)  # what failed, told to the model
    failed: list[str] = field(default_factory=list)  # the same, told to the reader
    notes: list[tuple[str, str]] = field(default_factory=list)  # (field, why) changed or removed
    passage: Span | None = None  # where the item is in the article, once that is grounded

    def span(self, name: str, value: str | None, *, near: int | None = None) -> Span | None:
        """``value`` grounded in the text; else None, and if the record is kept the field is
        noted as removed."""
        if value is None or not value.strip():
            return None
        text = self.source.text
        found: tuple[int, int, AlignmentStatus] | None = None
        if near is not None:
            # Near the passage first, so that "She" the model capitalised is the "she" of this
            # sentence, not an exact "She" three paragraphs away.
            at = max(0, min(near - self.source.offset, len(text)))
            low, high = max(0, at - _COMPANION_REACH), min(len(text), at + _COMPANION_REACH)
            close = align_span(text[low:high], value, near=at - low)
            if close is not None:
                found = (low + close.start, low + close.end, close.status)
        if found is None:
            anywhere = align_span(
                text, value, near=None if near is None else near - self.source.offset
            )
            if anywhere is not None:
                found = (anywhere.start, anywhere.end, anywhere.status)
        if found is None:
            shown = _shown(value)
            self.problems.append(
                f"{self.label}.{name}: {shown!r} is not in the article. Copy the words exactly "
                "as the article writes them, or leave the item out."
            )
            self.failed.append(f"{name} {shown!r} is not in the article")
            self.notes.append((name, f"{name} {shown!r} removed: not in the article"))
            return None
        start, end, status = found
        return Span(text=text[start:end], start=self.source.offset + start,
                    end=self.source.offset + end, alignment=status)  # fmt: skip

    def passage_span(
        self,
        name: str,
        value: str,
        companions: Sequence[str | None] = (),
        context: str | None = None,
    ) -> Span | None:
        """The item's passage. Where its words occur more than once, the item's ``context``
        (the passage with a few words around it) says which occurrence, if the model gave
        one; else, since answers list records in article order, it is the occurrence from
        :attr:`after` on that lies nearest the item's ``companions`` (a quote's speaker and
        cue, an event's arguments), or the first from there; with none from there on, the one
        nearest :attr:`after`. A :attr:`repeat` takes only a later occurrence (else None,
        and nothing is noted: the item is a repeat)."""
        cut = max(0, min(0 if self.after is None else self.after - self.source.offset,
                         len(self.source.text)))  # fmt: skip
        found = self._in_context(cut, value, context)
        if found is None:
            found = self._from(cut, value, companions)
        if found is not None or self.repeat:
            return found
        return self.span(name, value, near=self.after)

    def _in_context(self, cut: int, value: str, context: str | None) -> Span | None:
        """``value`` (exactly or normalised) inside the first occurrence of ``context`` from
        ``cut`` on (else anywhere, unless this is a repeat), if the context occurs exactly."""
        text, stripped = self.source.text, value.strip()
        around = (context or "").strip()
        if not stripped or len(around) <= len(stripped):
            return None
        # Where the words are in the context: as whole words ("it" is not the one in
        # "cited"), the occurrence nearest its middle if the context holds them twice.
        middle = (len(around) - len(stripped)) / 2
        inside = sorted(_whole_words(around, stripped), key=lambda at: abs(at - middle))
        inner: tuple[int, int, AlignmentStatus] | None = None
        if inside:
            inner = (inside[0], inside[0] + len(stripped), "exact")
        else:
            aligned = align_span(around, stripped, fuzzy_threshold=101.0)
            if aligned is not None and aligned.status != "fuzzy":
                inner = (aligned.start, aligned.end, aligned.status)
        starts = _whole_words(text, around, cut) or (
            [] if self.repeat else _whole_words(text, around)
        )
        if inner is None or not starts:
            return None
        start, end = starts[0] + inner[0], starts[0] + inner[1]
        return Span(text=text[start:end], start=self.source.offset + start,
                    end=self.source.offset + end, alignment=inner[2])  # fmt: skip

    def _from(self, cut: int, value: str, companions: Sequence[str | None]) -> Span | None:
        """``value`` found exactly or normalised in the text from ``cut`` on (no fuzzy search:
        a repeated passage is the same words)."""
        text, stripped = self.source.text, value.strip()
        if not stripped:
            return None
        found: tuple[int, int, AlignmentStatus] | None = None
        starts = _whole_words(text, stripped, cut)
        if starts:
            at = _nearest_companions(text, starts, companions)
            found = (at, at + len(stripped), "exact")
        else:
            rest = align_span(text[cut:], value, fuzzy_threshold=101.0)
            if rest is not None and rest.status != "fuzzy":
                found = (cut + rest.start, cut + rest.end, rest.status)
        if found is None:
            return None
        start, end, status = found
        return Span(text=text[start:end], start=self.source.offset + start,
                    end=self.source.offset + end, alignment=status)  # fmt: skip

    def name(self, name: str, value: str | None) -> str | None:
        """Keep a free-text name only if the article mentions it."""
        if value is None or value.strip().lower() in _SPEAKER_PLACEHOLDERS:
            return None
        if occurs(self.source.text, value):
            return value.strip()
        self.notes.append((name, f"{name} {value!r} removed: not in the article"))
        return None


def _whole_words(text: str, needle: str, start: int = 0) -> list[int]:
    """Where ``needle`` occurs in ``text`` from ``start`` on without splitting a word ("it"
    is not the one in "with")."""
    found: list[int] = []
    at = text.find(needle, start)
    while at >= 0:
        end = at + len(needle)
        cuts_in = at > 0 and text[at - 1].isalnum() and needle[0].isalnum()
        cuts_out = end < len(text) and text[end].isalnum() and needle[-1].isalnum()
        if not (cuts_in or cuts_out):
            found.append(at)
        at = text.find(needle, at + 1)
    return found


def _nearest_companions(text: str, starts: list[int], companions: Sequence[str | None]) -> int:
    """The start in ``starts`` nearest the occurrences of the companions found in ``text``
    (the first start when there is one, or no companion occurs)."""
    places = [
        found
        for companion in companions
        if companion and companion.strip().lower() not in _SPEAKER_PLACEHOLDERS
        for found in [_whole_words(text, companion.strip())]
        if found
    ]
    if len(starts) == 1 or not places:
        return starts[0]
    return min(starts, key=lambda at: sum(min(abs(p - at) for p in found) for found in places))


def _shown(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "..."


def _place(task: Task, source: Source, index: int, passage: Span | None = None) -> str:
    """Where the reader finds item ``index`` of an answer: its ``passage`` (or, for a choice,
    its candidate's) in the article if known, else its place in the answer."""
    if passage is None and index < len(source.candidates):
        candidate = source.candidates[index]
        start, end = source.offset + candidate.start, source.offset + candidate.end
        return _at(task, start, end, source.text[candidate.start : candidate.end])
    if passage is None:
        return f"item {index + 1} of the answer"
    return _at(task, passage.start, passage.end, passage.text)


def _at(task: Task, start: int, end: int, text: str) -> str:
    return f"the {task.removesuffix('s')} at {start}-{end} ({_shown(text)!r})"


class Draft(BaseModel):
    model_config = ConfigDict(extra="ignore")

    def ground(self, g: Grounder) -> Any:
        """The grounded record, or None when a required span has no place in the text."""
        raise NotImplementedError

    def key(self) -> tuple[Any, ...]:
        """What makes two drafts the same record."""
        raise NotImplementedError

    def declined(self) -> bool:
        """True for a draft that asks for no record (a choice the model turned down)."""
        return False


class QuoteDraft(Draft):
    content: str = Field(
        description="The quoted or reported words, copied exactly from the article"
    )
    speaker: str = Field(default="", description="Who said it, as written (a name or a pronoun)")
    speaker_name: str | None = Field(
        default=None, description="The speaker's full name if the article gives it"
    )
    cue: str = Field(default="", description="The verb of saying, e.g. said, urged")
    kind: QuoteKind = Field(
        default="direct",
        description="direct: in quotation marks; indirect: reported speech; mixed: both",
    )
    context: str | None = Field(
        default=None,
        description="Only if its words occur more than once in the article: the content with a "
        "few words around it, copied exactly, to say which occurrence",
    )

    def ground(self, g: Grounder) -> Quote | None:
        content = g.passage_span("content", self.content, (self.speaker, self.cue), self.context)
        if content is None:
            return None
        speaker = None
        if self.speaker.strip().lower() not in _SPEAKER_PLACEHOLDERS:
            speaker = g.span("speaker", self.speaker, near=content.start)
        return Quote(
            content=content,
            speaker=speaker,
            speaker_name=g.name("speaker_name", self.speaker_name),
            cue=g.span("cue", self.cue, near=content.start),
            kind=self.kind,
        )

    def key(self) -> tuple[Any, ...]:
        return (self.content.strip().lower(),)


class EventDraft(Draft):
    type: EventType | None = Field(
        default=None, description="PLOVER category of the event, or null if none fits"
    )
    kind: str | None = Field(
        default=None, description="What kind of event it is, in a few words (e.g. attack, trial)"
    )
    trigger: str = Field(description="The word or phrase naming the event")
    actor: str | None = Field(default=None, description="Who acts")
    recipient: str | None = Field(default=None, description="Who is acted upon")
    location: str | None = Field(default=None, description="Where, if stated")
    time: str | None = Field(default=None, description="When, if stated")
    summary: str = Field(default="", description="One line: who did what to whom")
    context: str | None = Field(
        default=None,
        description="Only if its words occur more than once in the article: the trigger with a "
        "few words around it, copied exactly, to say which occurrence",
    )

    def ground(self, g: Grounder) -> Event | None:
        companions = (self.actor, self.recipient, self.location, self.time)
        trigger = g.passage_span("trigger", self.trigger, companions, self.context)
        if trigger is None:
            return None
        near = trigger.start
        kind = (self.kind or "").strip()
        return Event(
            type=self.type,
            kind=kind or None,
            trigger=trigger,
            actor=g.span("actor", self.actor, near=near),
            recipient=g.span("recipient", self.recipient, near=near),
            location=g.span("location", self.location, near=near),
            time=g.span("time", self.time, near=near),
            summary=self.summary.strip(),
        )

    def key(self) -> tuple[Any, ...]:
        kind, actor = (self.kind or "").strip().lower(), (self.actor or "").strip().lower()
        return (self.type, kind, self.trigger.strip().lower(), actor)


class StanceDraft(Draft):
    holder: str | None = Field(
        default=None,
        description="Who holds the stance, as written; null if it is the writer's own",
    )
    holder_name: str | None = Field(
        default=None, description="The holder's full name if the article gives it"
    )
    target: str = Field(description="Who or what the stance is about")
    polarity: Polarity = Field(description="support, oppose or neutral")
    evidence: str = Field(description="The passage that shows the stance, copied exactly")
    context: str | None = Field(
        default=None,
        description="Only if its words occur more than once in the article: the evidence with a "
        "few words around it, copied exactly, to say which occurrence",
    )

    def ground(self, g: Grounder) -> Stance | None:
        evidence = g.passage = g.passage_span(
            "evidence", self.evidence, (self.holder,), self.context
        )
        holder = None
        if not self.writers():
            near = None if evidence is None else evidence.start
            holder = g.span("holder", self.holder, near=near)
            if holder is None:
                return None  # a stance of someone the article does not name is nobody's
        if evidence is None:
            return None
        return Stance(
            holder=holder,
            holder_name=g.name("holder_name", self.holder_name),
            target=self.target.strip(),
            polarity=self.polarity,
            evidence=evidence,
        )

    def writers(self) -> bool:
        """True if the stance is the article's own: no holder, or the writer named as one."""
        holder = (self.holder or "").strip().lower()
        return holder in _SPEAKER_PLACEHOLDERS or holder in _WRITER

    def key(self) -> tuple[Any, ...]:
        holder = "" if self.writers() else (self.holder or "").strip().lower()
        return (holder, self.target.strip().lower(), self.polarity, self.evidence.strip().lower())


class DraftList(BaseModel):
    """Base of the three answers the model gives; subclasses name the list field."""

    task: ClassVar[Task]
    item_model: ClassVar[type[Draft]]
    list_field: ClassVar[str]

    _records: list[Any] = PrivateAttr(default_factory=list)
    _corrected: list[Corrected] = PrivateAttr(default_factory=list)
    _dropped: list[Dropped] = PrivateAttr(default_factory=list)

    def drafts(self) -> list[Draft]:
        items: list[Draft] = getattr(self, self.list_field)
        return items

    @property
    def records(self) -> list[Any]:
        """Grounded records (none when validated without a grounding context)."""
        return list(self._records)

    @property
    def corrected(self) -> list[Corrected]:
        """Changes made to grounded records, each with the record it belongs to (merging
        records keeps only the corrections of those kept)."""
        return list(self._corrected)

    @property
    def dropped(self) -> list[Dropped]:
        return list(self._dropped)

    @model_validator(mode="after")
    def _ground_all(self, info: ValidationInfo) -> DraftList:
        source = _source(info.context)
        if source is not None:
            grounded = _ground_drafts(self.task, self.drafts(), source)
            self._records, self._corrected, self._dropped = grounded
        return self


def _ground_drafts(
    task: Task, drafts: list[Draft], source: Source, places: Sequence[int] | None = None
) -> tuple[list[Any], list[Corrected], list[Dropped]]:
    """Ground each draft; ``places`` are their indices in the answer (a choice's is its
    candidate's) when items of it were left out, by default their order."""
    records: list[Any] = []
    corrected: list[Corrected] = []
    dropped: list[Dropped] = []
    problems: list[str] = []
    # key -> how the reader finds its latest item, and where that item's passage starts
    seen: dict[tuple[Any, ...], tuple[str, int | None]] = {}
    after: int | None = None  # where the previous record's passage starts
    repeats: dict[tuple[Any, ...], list[Any]] = {}  # key -> [first repeat's reason, item, count]
    for index, draft in zip(places or range(len(drafts)), drafts, strict=True):
        key = draft.key()
        label = f"{task}[{index}]"
        if key in seen:
            # The same words again: another record only at a later occurrence of its passage.
            earlier, start = seen[key]
            g = Grounder(source, label, index, None if start is None else start + 1, repeat=True)
            record = None if start is None else draft.ground(g)
            if record is None:
                # One entry per repeated record, however often a looping model repeats it.
                if key in repeats:
                    repeats[key][2] += 1
                else:
                    reason = f"{_place(task, source, index)} repeats {earlier}"
                    repeats[key] = [reason, draft.model_dump(), 1]
                continue
        else:
            g = Grounder(source, label, index, after)
            record = draft.ground(g)
        problems.extend(g.problems)
        passage = g.passage if record is None else record.passage
        place = _place(task, source, index, passage)
        seen[key] = (place, None if passage is None else passage.start)
        if record is not None:
            after = record.passage.start
        if record is None and draft.declined():
            continue
        if record is None:
            failed = "; ".join(g.failed) or "could not be grounded"
            dropped.append(Dropped(task=task, reason=f"{place}: {failed}", item=draft.model_dump()))
            continue
        records.append(record)
        item, where = draft.model_dump(), record.passage
        for name, why in g.notes:
            correction = Correction(task=task, start=where.start, end=where.end, text=where.text,
                                    field=name, reason=why, item=item)  # fmt: skip
            corrected.append((record, correction))
    for reason, item, count in repeats.values():
        again = f" ({count - 1} more repeats of it)" if count > 1 else ""
        dropped.append(Dropped(task=task, reason=reason + again, item=item))
    if problems and source.strict:
        shown = problems[:_MAX_PROBLEMS_SHOWN]
        more = len(problems) - len(shown)
        raise ValueError("\n".join(shown) + (f"\n(and {more} more like these)" if more > 0 else ""))
    return records, corrected, dropped


class QuoteList(DraftList):
    """Quotations in the article: who said what."""

    task: ClassVar[Task] = "quotes"
    list_field: ClassVar[str] = "quotes"
    item_model: ClassVar[type[Draft]] = QuoteDraft
    # Required: an answer of another shape must fail, not pass as "none found".
    quotes: list[QuoteDraft]


class EventList(DraftList):
    """Events reported in the article."""

    task: ClassVar[Task] = "events"
    list_field: ClassVar[str] = "events"
    item_model: ClassVar[type[Draft]] = EventDraft
    events: list[EventDraft]


class StanceList(DraftList):
    """Stances that people or groups in the article take toward others."""

    task: ClassVar[Task] = "stances"
    list_field: ClassVar[str] = "stances"
    item_model: ClassVar[type[Draft]] = StanceDraft
    stances: list[StanceDraft]


_DRAFT_LISTS: dict[Task, type[DraftList]] = {
    "quotes": QuoteList,
    "events": EventList,
    "stances": StanceList,
}


def draft_list_for(task: Task) -> type[DraftList]:
    return _DRAFT_LISTS[task]


def _answer_items(model: type[DraftList], raw: str | None) -> list[Any] | None:
    """The items of ``raw`` (JSON, possibly cut off), or None if it is not ``model``'s shape."""
    if not raw:
        return None
    try:
        parsed = jiter.from_json(raw.encode(), partial_mode="trailing-strings")
    except ValueError:
        return None
    if isinstance(parsed, dict) and isinstance(parsed.get(model.list_field), list):
        return list(parsed[model.list_field])
    return None


def usable_answer(model: type[DraftList], raw: str | None) -> bool:
    """True if :func:`salvage` can read ``raw`` as ``model``'s answer (its items may still
    fail validation or grounding one by one); False for no answer or another shape."""
    return _answer_items(model, raw) is not None


def salvage(
    model: type[DraftList],
    raw: str | None,
    text: str,
    *,
    offset: int = 0,
    why: str,
    cut_off: bool = False,
    candidates: Sequence[Any] = (),
) -> DraftList:
    """Keep what can be grounded from an answer that failed validation.

    ``raw`` is the model's last answer (JSON, possibly cut off). Items that are not valid,
    not grounded or repeated are recorded as dropped, each with its reason; ``why`` says why
    the answer as a whole failed. When the answer was ``cut_off`` at the token limit its last
    item is incomplete, so it is dropped too.
    """
    task = model.task
    source = Source(text, offset, False, tuple(candidates))
    items: list[Any] = []
    dropped: list[Dropped] = []
    if raw:
        answered = _answer_items(model, raw)
        if answered is not None:
            items = answered
            if cut_off and items:
                last = items.pop()
                dropped.append(
                    Dropped(
                        task=task,
                        reason=f"{_place(task, source, len(items))} was cut off by the token limit",
                        item=last if isinstance(last, dict) else {"value": last},
                    )
                )
        else:
            dropped.append(Dropped(task=task, reason=f"answer unusable ({why}): {raw[:200]!r}"))
    else:
        dropped.append(Dropped(task=task, reason=f"no answer ({why})"))
    drafts: list[Draft] = []
    places: list[int] = []  # each draft's index in the answer
    for index, item in enumerate(items):
        try:
            drafts.append(model.item_model.model_validate(item))
            places.append(index)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            dropped.append(
                Dropped(
                    task=task,
                    reason=f"{_place(task, source, index)} is invalid ({where}: {first['msg']})",
                    item=item if isinstance(item, dict) else {"value": item},
                )
            )
    result = model.model_construct(None, **{model.list_field: drafts})
    records, corrected, more = _ground_drafts(task, drafts, source, places)
    result._records, result._corrected, result._dropped = records, corrected, dropped + more
    return result
