"""Gold files: one :class:`~llmextract.gold.GoldDocument` per JSONL line, read and written.

The record types are :mod:`llmextract.gold`'s (re-exported here); the loader checks every
span against the text and reports problems as ``file:line: message``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from pydantic import ValidationError

from llmextract.errors import InputError
from llmextract.gold import GoldDocument, GoldEvent, GoldStance
from llmextract.jsonl import numbered_lines

__all__ = [
    "GoldDocument",
    "GoldEvent",
    "GoldStance",
    "invalid_line",
    "iter_gold",
    "load_gold",
    "write_gold",
]


def iter_gold(path: str | Path) -> Iterator[GoldDocument]:
    """Gold documents of a JSONL file, in order; a bad line raises with ``file:line``."""
    seen: set[str] = set()
    for number, line in numbered_lines(path):
        try:
            document = GoldDocument.model_validate_json(line)
        except ValidationError as error:
            raise invalid_line(path, number, error) from None
        if document.id in seen:
            raise InputError(f"{path}:{number}: duplicate document id {document.id!r}")
        seen.add(document.id)
        yield document


def invalid_line(path: str | Path, number: int, error: ValidationError) -> InputError:
    """The error for a gold line that is not a valid document: ``file:line: field: why``."""
    problems = error.errors()
    unknown = [str(p["loc"][0]) for p in problems if p["type"] == "extra_forbidden"]
    if unknown and all(len(p["loc"]) == 1 for p in problems):
        # A key beside the gold fields: a misspelt task, or records of a user task read
        # without the file that declares it.
        return InputError(
            f"{path}:{number}: {', '.join(map(repr, unknown))} is not a built-in task or gold "
            "field: if it is your own task, give the task file that declares it (--tasks-file)"
        )
    first = problems[0]
    where = ".".join(str(p) for p in first["loc"])
    return InputError(f"{path}:{number}: {where + ': ' if where else ''}{first['msg']}")


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
