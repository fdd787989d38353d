"""Few-shot examples drawn from gold annotations (for example PolNeAR train), for any task.

Strategy: every paragraph (text between blank lines) of a gold document that holds at least
one gold record of the task, no longer than ``max_chars``, and that no record of the task
crosses, is a possible example; its answer is the records inside it, written as the model
is asked to write them (copied strings: :attr:`~llmextract.tasks.TaskSpec.answer`, else as
:func:`~llmextract.tasks.copy_answer` writes them). ``shots`` examples are drawn with a
seeded shuffle, at most one per document. Each answer is checked against its passage: every
copied string occurs in it. The examples are part of the prompt id, so a run names the
examples it used.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmextract.errors import ConfigError
from llmextract.evaluation.generic import iter_gold
from llmextract.gold import GoldDocument
from llmextract.schemas import Task
from llmextract.tasks import TaskSpec, copied_record, get_task

__all__ = ["Example", "load_examples", "select_examples"]

_PARAGRAPH = re.compile(r"[^\n]+(?:\n(?!\s*\n)[^\n]*)*")


@dataclass(frozen=True)
class Example:
    """A short passage and the answer the model should give for it."""

    text: str
    answer: dict[str, Any]


def _spans(value: Any) -> Iterator[Mapping[str, Any]]:
    """Every span in a record's field as JSON (nested, in lists)."""
    if isinstance(value, Mapping) and {"start", "end", "text"} <= set(value):
        yield value
    elif isinstance(value, Mapping):
        for inner in value.values():
            yield from _spans(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _spans(inner)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping | list):
        for inner in value.values() if isinstance(value, Mapping) else value:
            yield from _strings(inner)


def _span_fields(spec: TaskSpec) -> tuple[str, ...]:
    """The record's fields that hold its spans (the outer one of a nested span field)."""
    return tuple(dict.fromkeys(name.split(".")[0] for name in spec.spans))


def _answer(spec: TaskSpec, record: Mapping[str, Any], passage: str, start: int) -> Any:
    if spec.answer is not None:
        return spec.answer(record)
    return copied_record(spec.name, record, passage, start)


def _candidates(document: GoldDocument, spec: TaskSpec, max_chars: int) -> list[Example]:
    fields = _span_fields(spec)
    records = [
        (r if isinstance(r, Mapping) else r.model_dump(mode="json"))
        for r in document.stored(spec.name)
    ]
    spans = [[s for name in fields for s in _spans(r.get(name))] for r in records]
    examples = []
    for paragraph in _PARAGRAPH.finditer(document.text):
        start, end = paragraph.span()
        if end - start > max_chars:
            continue
        passage = document.text[start:end]
        inside = [r for r, s in zip(records, spans, strict=True)
                  if all(start <= x["start"] and x["end"] <= end for x in s)]  # fmt: skip
        touching = [s for s in spans if any(x["start"] < end and x["end"] > start for x in s)]
        answers = [a for r in inside if (a := _answer(spec, r, passage, start)) is not None]
        if answers and len(answers) == len(touching):  # every record it touches, shown
            examples.append(Example(passage, {spec.name: answers}))
    return examples


def select_examples(
    documents: Iterable[GoldDocument],
    task: Task,
    *,
    shots: int,
    seed: int = 0,
    max_chars: int = 600,
) -> list[Example]:
    """``shots`` examples of ``task`` from ``documents`` (see the module docstring)."""
    spec = get_task(task)
    per_document = [
        found
        for document in documents
        if task in document.tasks and (found := _candidates(document, spec, max_chars))
    ]
    if len(per_document) < shots:
        raise ConfigError(
            f"only {len(per_document)} documents have a usable {task} example; ask for fewer "
            "--shots or give a larger gold file"
        )
    rng = random.Random(seed)  # noqa: S311 - sampling examples, not secrets
    rng.shuffle(per_document)
    chosen = [rng.choice(options) for options in per_document[:shots]]
    fields = _span_fields(spec)
    for example in chosen:
        for item in example.answer[task]:
            copied = [v for name in fields for v in _strings(item.get(name)) if v]
            if any(value not in example.text for value in copied):
                raise ConfigError(f"an example answer is not in its passage: {item}")
    return chosen


def load_examples(
    path: str | Path | None, tasks: Iterable[Task], *, shots: int, seed: int = 0
) -> dict[str, list[Example]] | None:
    """``shots`` examples per task from the gold file at ``path`` (the built-in tasks' and
    the user tasks' records); None when shots is 0."""
    if not shots:
        return None
    if path is None:
        raise ConfigError("--shots needs --examples GOLD.jsonl (a training split to draw from)")
    pool = list(iter_gold(path))
    return {task: select_examples(pool, task, shots=shots, seed=seed) for task in tasks}
