"""The gold format: one JSON document per line, reusing the prediction schemas.

A line is a :class:`GoldDocument`: the article ``text``, the ``tasks`` annotated in it (a
task not listed is not scored, rather than scored as zero), and gold ``quotes``, ``events``
and ``stances`` whose spans are character offsets into ``text``. The loader checks every
span against the text and reports problems as ``file:line: message``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from llmextract.errors import InputError
from llmextract.jsonl import numbered_lines
from llmextract.schemas import Event, Quote, Span, Stance, Task

__all__ = ["GoldDocument", "GoldEvent", "GoldStance", "iter_gold", "load_gold", "write_gold"]


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
    model_config = ConfigDict(extra="forbid")

    id: str
    text: str
    tasks: list[Task]
    source: str = ""
    quotes: list[Quote] = Field(default_factory=list)
    events: list[GoldEvent] = Field(default_factory=list)
    stances: list[GoldStance] = Field(default_factory=list)
    meta: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _spans_are_in_the_text(self) -> GoldDocument:
        for task in ("quotes", "events", "stances"):
            for index, record in enumerate(getattr(self, task)):
                for where, span in _spans(record):
                    if self.text[span.start : span.end] != span.text:
                        raise ValueError(
                            f"{task}[{index}].{where}: text[{span.start}:{span.end}] is "
                            f"{self.text[span.start : span.end]!r}, not {span.text!r}"
                        )
            if getattr(self, task) and task not in self.tasks:
                raise ValueError(f"has {task} but 'tasks' does not list {task!r}")
        return self


def _spans(record: BaseModel) -> Iterator[tuple[str, Span]]:
    for name in type(record).model_fields:
        value = getattr(record, name)
        if isinstance(value, Span):
            yield name, value
        elif isinstance(value, dict):
            for role, spans in value.items():
                for i, span in enumerate(spans):
                    if isinstance(span, Span):
                        yield f"{name}.{role}[{i}]", span


def iter_gold(path: str | Path) -> Iterator[GoldDocument]:
    """Gold documents of a JSONL file, in order; a bad line raises with ``file:line``."""
    seen: set[str] = set()
    for number, line in numbered_lines(path):
        try:
            document = GoldDocument.model_validate_json(line)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise InputError(
                f"{path}:{number}: {where + ': ' if where else ''}{first['msg']}"
            ) from None
        if document.id in seen:
            raise InputError(f"{path}:{number}: duplicate document id {document.id!r}")
        seen.add(document.id)
        yield document


def load_gold(path: str | Path, *, limit: int | None = None) -> list[GoldDocument]:
    documents: list[GoldDocument] = []
    for document in iter_gold(path):
        if limit is not None and len(documents) == limit:
            break
        documents.append(document)
    return documents


def write_gold(documents: Iterable[GoldDocument], path: str | Path) -> int:
    """Write ``documents`` as JSONL; returns how many were written."""
    count = 0
    with Path(path).open("w", encoding="utf-8") as handle:
        for document in documents:
            handle.write(
                json.dumps(
                    document.model_dump(mode="json", exclude_defaults=True), ensure_ascii=False
                )
            )
            handle.write("\n")
            count += 1
    return count
