"""Few-shot examples drawn from gold annotations (for example PolNeAR train).

Strategy: every paragraph (text between blank lines) of a gold document that holds at least
one gold record of the task, no longer than ``max_chars``, and that no record of the task
crosses, is a possible example; its answer is the records inside it, written as the model
is asked to write them (copied strings). ``shots`` examples are drawn with a seeded shuffle,
at most one per document. Each answer is checked against its passage: every copied string
occurs in it. The examples are part of the prompt id, so a run names the examples it used.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmextract.errors import ConfigError
from llmextract.evaluation.gold import GoldDocument, load_gold
from llmextract.schemas import Span, Task

__all__ = ["Example", "load_examples", "select_examples"]

# The answer fields that must be copied from the passage (the others are labels or names).
_COPIED = frozenset(
    {"content", "speaker", "cue", "trigger", "actor", "recipient", "location", "time",
     "holder", "evidence"}
)  # fmt: skip
_PARAGRAPH = re.compile(r"[^\n]+(?:\n(?!\s*\n)[^\n]*)*")


@dataclass(frozen=True)
class Example:
    """A short passage and the answer the model should give for it."""

    text: str
    answer: dict[str, Any]


def _inside(span: Span | None, start: int, end: int) -> bool:
    return span is None or (start <= span.start and span.end <= end)


def _text(span: Span | None) -> str | None:
    return None if span is None else span.text


def _draft(task: Task, record: Any) -> dict[str, Any]:
    if task == "quotes":
        return {
            "content": record.content.text,
            "speaker": _text(record.speaker) or "",
            "speaker_name": record.speaker_name,
            "cue": _text(record.cue) or "",
            "kind": record.kind,
        }
    if task == "events":
        return {
            "type": str(record.type),
            "trigger": record.trigger.text,
            **{r: _text(getattr(record, r)) for r in ("actor", "recipient", "location", "time")},
            "summary": record.summary,
        }
    return {
        "holder": _text(record.holder) or "",
        "holder_name": record.holder_name,
        "target": record.target,
        "polarity": record.polarity,
        "evidence": record.evidence.text,
    }


def _spans(record: Any) -> list[Span | None]:
    names = ("content", "speaker", "cue", "trigger", "actor", "recipient", "location", "time",
             "holder", "evidence")  # fmt: skip
    return [getattr(record, n) for n in names if hasattr(record, n)]


def _usable(task: Task, record: Any) -> bool:
    # An event without a PLOVER type or a stance without a holder cannot be shown as an answer.
    if task == "events":
        return record.type is not None
    if task == "stances":
        return record.holder is not None
    return True


def _candidates(document: GoldDocument, task: Task, max_chars: int) -> list[Example]:
    records = [r for r in getattr(document, task) if _usable(task, r)]
    examples = []
    for paragraph in _PARAGRAPH.finditer(document.text):
        start, end = paragraph.span()
        if end - start > max_chars:
            continue
        inside = [r for r in records if all(_inside(s, start, end) for s in _spans(r))]
        touching = [
            r for r in getattr(document, task)
            if any(s is not None and s.start < end and s.end > start for s in _spans(r))
        ]  # fmt: skip
        if inside and len(inside) == len(touching):
            passage = document.text[start:end]
            answer: dict[str, Any] = {task: [_draft(task, r) for r in inside]}
            examples.append(Example(passage, answer))
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
    per_document = [
        found
        for document in documents
        if task in document.tasks and (found := _candidates(document, task, max_chars))
    ]
    if len(per_document) < shots:
        raise ConfigError(
            f"only {len(per_document)} documents have a usable {task} example; ask for fewer "
            "--shots or give a larger gold file"
        )
    rng = random.Random(seed)  # noqa: S311 - sampling examples, not secrets
    rng.shuffle(per_document)
    chosen = [rng.choice(options) for options in per_document[:shots]]
    for example in chosen:
        for item in example.answer[task]:
            copied = [v for k, v in item.items() if k in _COPIED and v]
            if any(value not in example.text for value in copied):
                raise ConfigError(f"an example answer is not in its passage: {item}")
    return chosen


def load_examples(
    path: str | Path | None, tasks: Iterable[Task], *, shots: int, seed: int = 0
) -> dict[str, list[Example]] | None:
    """``shots`` examples per task from the gold file at ``path``; None when shots is 0."""
    if not shots:
        return None
    if path is None:
        raise ConfigError("--shots needs --examples GOLD.jsonl (a training split to draw from)")
    pool = load_gold(path)
    return {task: select_examples(pool, task, shots=shots, seed=seed) for task in tasks}
