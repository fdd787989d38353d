"""Scoring user tasks (:mod:`llmextract.tasks`): their gold, and the generic per-field counts
per document, the scorer of a task that declares no other (:func:`score_fields`).

Gold is the generic JSONL: ``{"id", "text", "<task>": [records]}`` with each span as
``{"start", "end", "text"}`` (offsets into ``text``) and each label as its value; ``tasks``
may list the built-in tasks annotated too (a user task with a list is annotated). Records are
paired one to one on the task's key span (:func:`~.matching.match`, the run's criterion);
then, field by field (keys ``task.field``):

- the key span: matched records are true positives, the other predictions false positives,
  the other gold records false negatives;
- another span, over matched pairs: overlapping is a true positive, a different span both a
  false positive and a false negative, one only the prediction has a false positive, one
  only the gold has a false negative; a list of spans is matched one to one inside the pair;
- a label, over matched pairs: the same label is a true positive, another one both a false
  positive and a false negative, a missing one a false negative (per-class scores come from
  its confusion matrix).

Fields of nested models are scored under their dotted name (``task.who.name``). Other fields
are not scored. Pure: no I/O but reading the gold file.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, model_validator

from llmextract.errors import InputError
from llmextract.evaluation import gold as builtin_gold
from llmextract.evaluation.counts import Counts, DocumentScore
from llmextract.evaluation.fields import MISSED, SPURIOUS
from llmextract.evaluation.gold import GoldDocument
from llmextract.evaluation.matching import SpanCriterion, match, spans_overlap
from llmextract.jsonl import loads, numbered_lines
from llmextract.schemas import DocumentResult, Span, Task
from llmextract.tasks import (
    check_gold_records,
    get_task,
    records_of,
    task_names,
    user_task_names,
)

__all__ = [
    "UserGold",
    "iter_gold",
    "key_spans",
    "score_fields",
    "ungrounded",
]


class UserGold(GoldDocument):
    """A gold document that also holds user tasks' records (task -> records as JSON)."""

    records: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)

    def stored(self, task: str) -> list[Any]:
        return self.records[task] if task in self.records else super().stored(task)

    @model_validator(mode="after")
    def _records_are_in_the_text(self) -> UserGold:
        for name, records in self.records.items():
            for index, record in enumerate(check_gold_records(name, records)):
                for where, span in _spans(record):
                    if self.text[span.start : span.end] != span.text:
                        raise ValueError(
                            f"{name}[{index}].{where}: text[{span.start}:{span.end}] is "
                            f"{self.text[span.start : span.end]!r}, not {span.text!r}"
                        )
        return self


def _spans(record: BaseModel, prefix: str = "") -> Iterator[tuple[str, Span]]:
    for name in type(record).model_fields:
        values = getattr(record, name)
        for i, value in enumerate(values if isinstance(values, list) else [values]):
            where = f"{prefix}{name}" + (f"[{i}]" if isinstance(values, list) else "")
            if isinstance(value, Span):
                yield where, value
            elif isinstance(value, BaseModel):
                yield from _spans(value, where + ".")


def iter_gold(path: str | Path) -> Iterator[GoldDocument]:
    """Gold documents of a JSONL file, in order, with the records of the user tasks
    registered; the built-in reader's when there are none. A bad line raises ``file:line``."""
    users = set(user_task_names())
    if not users:
        for document in builtin_gold.iter_gold(path):
            yield _known_tasks(document, path)
        return
    seen: set[str] = set()
    for number, line in numbered_lines(path):
        try:
            data = loads(line)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            records = {name: data.pop(name) for name in list(data) if name in users}
            listed = data.setdefault("tasks", [])
            if isinstance(listed, list):
                data["tasks"] = list(dict.fromkeys([*listed, *records]))
            document = UserGold.model_validate({**data, "records": records})
        except ValidationError as error:
            raise builtin_gold.invalid_line(path, number, error) from None
        except ValueError as error:
            raise InputError(f"{path}:{number}: {error}; give one JSON object a line") from None
        if document.id in seen:
            raise InputError(f"{path}:{number}: duplicate document id {document.id!r}")
        seen.add(document.id)
        yield _known_tasks(document, path, number)


def _known_tasks(
    document: GoldDocument, path: str | Path, number: int | None = None
) -> GoldDocument:
    """``document``, if every task it lists is a known one; else an InputError."""
    known = task_names()
    for name in document.tasks:
        if name not in known:
            where = f"{path}:{number}" if number is not None else f"{path}: {document.id}"
            raise InputError(
                f"{where}: tasks: unknown task {name!r}: use {', '.join(known)}, or declare it "
                "in a task file (--tasks-file FILE)"
            )
    return document


def _value(record: BaseModel, path: str) -> Any:
    """The value at a dotted path; None when a model on the way is missing."""
    value: Any = record
    for part in path.split("."):
        if value is None:
            return None
        value = getattr(value, part)
    return value


def _label_of(value: Any) -> str | None:
    if value is None:
        return None
    return str(getattr(value, "value", value))


def score_fields(
    task: Task, gold: GoldDocument, result: DocumentResult | None, criterion: SpanCriterion
) -> DocumentScore:
    """Per-field counts of task ``task`` in one document (see the module docstring)."""
    spec = get_task(task)
    text = gold.text
    truth = check_gold_records(task, gold.stored(task))
    guess = [] if result is None else records_of(result, task)
    pairs = match(
        [_value(r, spec.key) for r in guess], [_value(r, spec.key) for r in truth], text, criterion
    )
    counts = {
        spec.key: Counts(tp=len(pairs), fp=len(guess) - len(pairs), fn=len(truth) - len(pairs))
    }
    for name in spec.spans:
        if name != spec.key:
            counts[name] = _span_counts(
                [(_value(guess[p], name), _value(truth[g], name)) for p, g in pairs],
                text,
                criterion,
            )
    labels: dict[str, list[tuple[str, str]]] = {}
    for name in spec.labels:
        counts[name] = Counts()
        labels[name] = []
        for p, g in pairs:
            said, right = _label_of(_value(guess[p], name)), _label_of(_value(truth[g], name))
            _count_label(counts[name], said, right)
            if right is not None:
                labels[name].append((right, said if said is not None else MISSED))
        matched_gold, matched_pred = {g for _, g in pairs}, {p for p, _ in pairs}
        labels[name] += [
            (label, MISSED)
            for g, r in enumerate(truth)
            if g not in matched_gold and (label := _label_of(_value(r, name))) is not None
        ]
        labels[name] += [
            (SPURIOUS, label)
            for p, r in enumerate(guess)
            if p not in matched_pred and (label := _label_of(_value(r, name))) is not None
        ]
    return DocumentScore(id=gold.id, task=task, counts=counts, pairs=labels)


def _count_label(counts: Counts, said: str | None, right: str | None) -> None:
    if right is None:
        counts.fp += said is not None
    elif said is None:
        counts.fn += 1
    elif said == right:
        counts.tp += 1
    else:
        counts.fp += 1
        counts.fn += 1


def _span_counts(pairs: Sequence[tuple[Any, Any]], text: str, criterion: SpanCriterion) -> Counts:
    """Counts of one span field (or list of spans) over matched records."""
    counts = Counts()
    for said, right in pairs:
        if isinstance(said, list) or isinstance(right, list):
            said, right = list(said or []), list(right or [])
            inside = len(match(said, right, text, criterion))
            counts += Counts(tp=inside, fp=len(said) - inside, fn=len(right) - inside)
        elif said is None:
            counts.fn += right is not None
        elif right is None:
            counts.fp += 1
        elif spans_overlap(said, right, text):
            counts.tp += 1
        else:
            counts.fp += 1
            counts.fn += 1
    return counts


def key_spans(
    task: str, gold: GoldDocument, result: DocumentResult | None
) -> tuple[list[Span], list[Span]]:
    """The key spans of task ``task``: predicted, and gold."""
    key = get_task(task).key
    truth = check_gold_records(task, gold.stored(task))
    guess = [] if result is None else records_of(result, task)
    return [_value(r, key) for r in guess], [_value(r, key) for r in truth]


def ungrounded(gold: GoldDocument, result: DocumentResult | None, task: str) -> int:
    """Records of task ``task`` whose key span is not the article's text at its
    offsets (0 for llmextract, by construction; counted so that a regression shows)."""
    key = get_task(task).key
    records = [] if result is None else records_of(result, task)
    return sum(
        gold.text[span.start : span.end] != span.text for span in (_value(r, key) for r in records)
    )
