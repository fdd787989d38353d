"""The rules system: a :class:`~llmextract.schemas.DocumentResult` from the code alone.

The records are llmextract's own candidates (:mod:`llmextract.candidates`) with every choice
left at the code's best guess, the ``rules`` baseline that ``llmextract eval --system rules``
scores (:func:`llmextract.evaluation.baselines.rule_extract`). No model is started and
nothing goes over the network; ``llmextract extract``/``batch --system rules`` print the
same result contract as the model does, with model ``rules``, endpoint ``none`` and no
usage. ``prompts`` names the choice prompts whose candidate finders made the records.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import llmextract
from llmextract.article import Article
from llmextract.errors import ConfigError
from llmextract.evaluation.baselines import rule_extract
from llmextract.extract import parse_tasks
from llmextract.prompts import load_prompt
from llmextract.schemas import TASKS, DocumentResult, Task
from llmextract.tasks import get_task, task_names

__all__ = ["RULES", "extract_rules", "rule_prompts", "rule_tasks"]

RULES = "rules"  # the model a rules result records


def rule_tasks(tasks: Iterable[str]) -> tuple[str, ...]:
    """The tasks among ``tasks`` whose candidates code finds (the built-in ones: the rules
    find no others, so naming a user task is a ConfigError; ``all`` means those)."""
    names = list(tasks)
    chosen = parse_tasks(names)
    named = {part.strip() for name in names for part in name.split(",")}
    found = tuple(t for t in task_names() if get_task(t).finder is not None)
    if users := [t for t in chosen if t not in found and t in named]:
        raise ConfigError(
            f"the rules and naive baselines find {', '.join(found)} only, not "
            f"{', '.join(users)}: use --system llmextract for a task of your own"
        )
    return tuple(t for t in chosen if t in found) or found


def rule_prompts(tasks: Iterable[str]) -> dict[str, str]:
    """Task -> id of the choice prompt whose candidate finder the rules use."""
    return {task: load_prompt(task, style="choose").id for task in rule_tasks(tasks)}


def extract_rules(
    article: Article,
    tasks: Iterable[str] = TASKS,
    *,
    given: Mapping[Task, Sequence[Any]] | None = None,
) -> DocumentResult:
    """The rules system's records of ``tasks`` in ``article``, grounded as the model's are;
    a task in ``given`` decides those candidates instead of finding its own."""
    started = time.perf_counter()
    result = DocumentResult(
        id=article.id,
        sha256=article.sha256,
        chars=len(article.text),
        model=RULES,
        endpoint="none",
        prompts=rule_prompts(tasks),
        llmextract_version=llmextract.__version__,
    )
    for task in rule_tasks(tasks):
        found = (given or {}).get(task)
        result.store(task, rule_extract(article.text, task, given=found))
    result.seconds = round(time.perf_counter() - started, 3)
    return result
