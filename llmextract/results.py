"""Reading extraction results back (extract JSON/JSONL, batch JSONL) with their articles."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, StrictInt, StrictStr, ValidationError

from llmextract.article import Article, read_article
from llmextract.errors import InputError
from llmextract.jsonl import loads, numbered_lines
from llmextract.render import ViewDocument
from llmextract.schemas import DocumentResult
from llmextract.sources import iter_source, source_kind

__all__ = ["ResultLine", "read_results", "with_articles"]


@dataclass(frozen=True)
class ResultLine:
    line: int | None  # the batch input line, for batch records
    id: str
    result: DocumentResult | None
    error: str | None = None


def read_results(path: Path) -> Iterator[ResultLine]:
    """The results in ``path``, streaming: JSONL of extract results or batch records, or the
    one indented document ``llmextract extract`` writes by default."""
    lines = numbered_lines(path)
    first = next(lines, None)
    if first is not None and first[1].strip() == "{":  # indented: one document
        try:
            whole = loads(path.read_text(encoding="utf-8"))
        except ValueError as error:
            raise InputError(f"{path}: not valid JSON ({error})") from None
        yield _result_line(path, first[0], whole)
        return
    for number, raw in itertools.chain([first] if first else [], lines):
        fast = _fast_result_line(raw)
        if fast is not None:
            yield fast
            continue
        try:
            data = loads(raw)
        except ValueError:
            raise InputError(f"{path}:{number}: not valid JSON") from None
        yield _result_line(path, number, data)


# How llmextract batch starts every record it writes.
_BATCH_START = '{"line":'


class _BatchRecord(BaseModel):
    """A batch record that holds a result, in the form ``llmextract batch`` writes it."""

    model_config = ConfigDict(extra="ignore")

    line: StrictInt | None = None
    id: StrictStr
    status: Literal["ok"]
    result: DocumentResult


def _fast_result_line(raw: str) -> ResultLine | None:
    """The line as a batch record or an extraction result, parsed and validated in one step
    (most lines are one of these); ``None`` for anything else, which :func:`_result_line`
    reads and says what is wrong with. A result accepted here is the one it would give: a
    batch record only in the form batch writes, and a result holding no key but its own."""
    try:
        if raw.startswith(_BATCH_START):
            record = _BatchRecord.model_validate_json(raw)
            return ResultLine(record.line, record.id, record.result)
        result = DocumentResult.model_validate_json(raw)
    except ValidationError:
        return None
    return ResultLine(None, result.id, result)


def _result_line(path: Path, number: int, data: object) -> ResultLine:
    if not isinstance(data, dict):
        raise InputError(f"{path}:{number}: not an extraction result")
    try:
        if data.get("status") == "error":  # a batch error record
            return ResultLine(data.get("line"), str(data["id"]), None, data["error"]["message"])
        if "result" in data:  # a batch record
            result = DocumentResult.model_validate(data["result"])
            return ResultLine(data.get("line"), str(data.get("id", result.id)), result)
        result = DocumentResult.model_validate(data)
    except (KeyError, TypeError, ValidationError) as error:
        raise InputError(
            f"{path}:{number}: not an extraction result ({str(error).splitlines()[0]})"
        ) from None
    return ResultLine(None, result.id, result)


def _articles(source: str) -> Iterator[tuple[int | None, str, str | None]]:
    """(line, id, text) of every article in ``source``: one text file, or a batch input."""
    try:
        source_kind(source)
    except InputError:  # not a batch input: one article file
        article = read_article(source)
        yield None, article.id, article.text
        return
    for item in iter_source(source):
        yield item.line, item.id, item.text


def with_articles(results: Path, source: str) -> list[ViewDocument]:
    """Each result with the text it was extracted from, checked by content hash."""
    lines = list(read_results(results))
    by_line: dict[int, str | None] = {}
    by_id: dict[str, str | None] = {}
    for line, item_id, text in _articles(source):
        if line is not None:
            by_line[line] = text
        by_id.setdefault(item_id, text)
    if len(by_id) == 1 and len(lines) == 1:  # one article and one result: ids may differ
        by_id = {lines[0].id: next(iter(by_id.values()))}
    documents = []
    for entry in lines:
        text = by_line.get(entry.line) if entry.line is not None else by_id.get(entry.id)
        if text is None:
            if entry.result is None:
                documents.append(ViewDocument(entry.id, "", None, entry.error))
                continue
            raise InputError(f"{source}: has no article for result {entry.id!r}")
        if entry.result is not None and Article(entry.id, text).sha256 != entry.result.sha256:
            raise InputError(
                f"{source}: the text of {entry.id!r} is not the one that was extracted "
                "(its sha256 differs); give the input the results were made from"
            )
        documents.append(ViewDocument(entry.id, text, entry.result, entry.error))
    return documents
