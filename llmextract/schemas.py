"""The output contract: grounded records and the document that carries them.

Every span satisfies ``article[span.start:span.end] == span.text`` where the article is the
input text as read (UTF-8 decoded, byte-order mark removed, line endings kept).
Pure data: no I/O, no client.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from llmextract.grounding import AlignmentStatus

__all__ = [
    "TASKS",
    "Correction",
    "DocumentResult",
    "Dropped",
    "Event",
    "EventType",
    "Polarity",
    "Quote",
    "QuoteKind",
    "Span",
    "Stance",
    "Task",
    "Usage",
]

# A task's name: a built-in one (TASKS) or a user task's (see llmextract.tasks).
Task = str
TASKS: tuple[Task, ...] = ("quotes", "events", "stances")

QuoteKind = Literal["direct", "indirect", "mixed"]
Polarity = Literal["support", "oppose", "neutral"]


class EventType(StrEnum):
    """The 16 PLOVER event categories (PLOVER manual draft 0.8)."""

    AGREE = "AGREE"
    CONSULT = "CONSULT"
    SUPPORT = "SUPPORT"
    CONCEDE = "CONCEDE"
    COOPERATE = "COOPERATE"
    AID = "AID"
    RETREAT = "RETREAT"
    REQUEST = "REQUEST"
    ACCUSE = "ACCUSE"
    REJECT = "REJECT"
    THREATEN = "THREATEN"
    PROTEST = "PROTEST"
    SANCTION = "SANCTION"
    MOBILIZE = "MOBILIZE"
    COERCE = "COERCE"
    ASSAULT = "ASSAULT"


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Span(_Record):
    """A passage of the article, by character offsets into it."""

    text: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    alignment: AlignmentStatus = "exact"


class Quote(_Record):
    """Who said what (source / cue / content, as in PolNeAR and citron)."""

    content: Span
    speaker: Span | None = None
    speaker_name: str | None = None
    cue: Span | None = None
    kind: QuoteKind = "direct"

    @property
    def passage(self) -> Span:
        """Where the quote is in the article: its content."""
        return self.content


class Event(_Record):
    """Something an actor did, in a PLOVER category when it has one.

    ``type`` is ``None`` for an event that no PLOVER category fits (a death, a journey, a
    trial); ``kind`` then says in free text what it is (e.g. ``Life.Die``, ``trial``).
    """

    type: EventType | None = None
    kind: str | None = None
    trigger: Span
    actor: Span | None = None
    recipient: Span | None = None
    location: Span | None = None
    time: Span | None = None
    summary: str = ""

    @property
    def passage(self) -> Span:
        """Where the event is in the article: its trigger."""
        return self.trigger


class Stance(_Record):
    """A holder's position toward a target, with the passage that shows it.

    ``holder`` is ``None`` when the stance is the article's own (a writer's framing, as in
    BASIL's annotations), not a person's or organisation's in it.
    """

    holder: Span | None = None
    holder_name: str | None = None
    target: str
    polarity: Polarity
    evidence: Span

    @property
    def passage(self) -> Span:
        """Where the stance is in the article: its evidence."""
        return self.evidence


class Correction(_Record):
    """A change made to a record that was emitted: an option the model picked that was not
    offered and was replaced, or a field removed because the article does not hold it.

    ``start``, ``end`` and ``text`` are the record's passage (a quote's content, an event's
    trigger, a stance's evidence), so ``article[start:end] == text``; ``item`` is what the
    model answered for the record.
    """

    task: Task
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str
    field: str
    reason: str
    item: dict[str, Any] | None = None


class Dropped(_Record):
    """Something the model answered that was not emitted, and why."""

    task: Task
    reason: str
    item: dict[str, Any] | None = None


class Usage(BaseModel):
    """What the model calls cost, failed attempts included.

    ``cached`` answers came from the response cache: they are not requests and cost no
    tokens.
    """

    requests: int = 0
    transport_retries: int = 0
    reasks: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: int = 0

    def add(self, other: Usage) -> None:
        for name in type(self).model_fields:
            setattr(self, name, getattr(self, name) + getattr(other, name))


class DocumentResult(BaseModel):
    """All records extracted from one article, with what is needed to reproduce them."""

    model_config = ConfigDict(extra="forbid")

    id: str
    sha256: str
    chars: int
    model: str
    endpoint: str
    prompts: dict[str, str] = Field(description="task -> prompt id (name@content hash)")
    quotes: list[Quote] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)
    stances: list[Stance] = Field(default_factory=list)
    # User tasks' records (see llmextract.tasks), task -> records as JSON; left out when none.
    records: dict[str, list[dict[str, Any]]] = Field(
        default_factory=dict, exclude_if=lambda records: not records
    )
    corrected: list[Correction] = Field(default_factory=list)
    dropped: list[Dropped] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    seconds: float = 0.0
    notice: str | None = None
    llmextract_version: str = ""

    def store(self, task: Task, records: list[Any]) -> None:
        """Keep ``task``'s records: a built-in task's in its own list (the output keeps its
        top-level ``quotes``, ``events`` and ``stances``), another's under ``records``."""
        if task in TASKS:
            setattr(self, task, records)
        else:
            self.records[task] = [r.model_dump(mode="json") for r in records]

    def tasks(self) -> tuple[Task, ...]:
        """The tasks whose records it holds: the built-in ones, then the user tasks'."""
        return (*TASKS, *self.records)

    def stored(self, task: Task) -> list[Any]:
        """``task``'s records as kept (a user task's as JSON, see :meth:`store`)."""
        return list(getattr(self, task)) if task in TASKS else self.records.get(task, [])
