"""The gold record types: a gold document and the gold events and stances it holds.

A :class:`GoldDocument` is the article ``text``, the ``tasks`` annotated in it (a task not
listed is not scored, rather than scored as zero), and gold ``quotes``, ``events`` and
``stances`` whose spans are character offsets into ``text``, checked against it when a
document is made. Reading and writing gold files is :mod:`llmextract.evaluation.gold`'s.
Pure data: no I/O, no client.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, model_validator

from llmextract.schemas import TASKS, Event, Quote, Span, Stance, Task

__all__ = ["GoldDocument", "GoldEvent", "GoldStance"]


class GoldEvent(Event):
    """A gold event; ``type`` is ``None`` when the source ontology has no PLOVER match."""

    source_type: str | None = Field(default=None, description="type in the source ontology")
    arguments: dict[str, list[Span]] = Field(
        default_factory=dict, description="role -> argument spans in the source ontology"
    )


class GoldStance(Stance):
    """A gold stance; the holder may be implicit (the author)."""

    label: Literal["stance", "sentiment"] = Field(
        default="stance", description="sentiment data (NewsMTSC) is marked as such"
    )


class GoldDocument(BaseModel):
    """One gold line: an article and its annotated records."""

    model_config = ConfigDict(extra="forbid")

    id: str
    text: str
    tasks: list[Task]
    source: str = ""
    quotes: list[Quote] = Field(default_factory=list)
    events: list[GoldEvent] = Field(default_factory=list)
    stances: list[GoldStance] = Field(default_factory=list)
    meta: dict[str, Any] = Field(default_factory=dict)

    def stored(self, task: Task) -> list[Any]:
        """``task``'s gold records (a user task's as JSON, in a document that holds them)."""
        return list(getattr(self, task)) if task in TASKS else []

    @model_validator(mode="after")
    def _spans_are_in_the_text(self) -> GoldDocument:
        text = self.text
        for task in TASKS:
            records = getattr(self, task)
            for index, record in enumerate(records):
                for where, span in _spans(record):
                    if text[span.start : span.end] != span.text:
                        raise ValueError(
                            f"{task}[{index}].{where}: text[{span.start}:{span.end}] is "
                            f"{text[span.start : span.end]!r}, not {span.text!r}"
                        )
            if records and task not in self.tasks:
                raise ValueError(f"has {task} but 'tasks' does not list {task!r}")
        return self


def _spans(record: BaseModel) -> Iterator[tuple[str, Span]]:
    for name, holds_mapping in _span_fields(type(record)):
        value = getattr(record, name)
        if isinstance(value, Span):
            yield name, value
        elif holds_mapping and isinstance(value, dict):
            for role, spans in value.items():
                for i, span in enumerate(spans):
                    if isinstance(span, Span):
                        yield f"{name}.{role}[{i}]", span


@functools.cache
def _span_fields(model: type[BaseModel]) -> tuple[tuple[str, bool], ...]:
    """The fields of ``model`` whose type holds a :class:`Span`, in declaration order, and
    whether each is a mapping (role -> spans): looked up once per record type, as every gold
    span of every document passes through :func:`_spans`."""
    found = []
    for name, info in model.model_fields.items():
        if _holds_span(info.annotation):
            found.append((name, get_origin(info.annotation) is dict))
    return tuple(found)


def _holds_span(annotation: Any) -> bool:
    return annotation is Span or any(_holds_span(arg) for arg in get_args(annotation))
