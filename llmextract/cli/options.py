"""The options several commands share, each defined once, and the one way the command line
turns endpoint options into :class:`~llmextract.settings.Settings`.

Help text is plain (no Rich markup) and every default reads ``[default: ...]``: typer prints
literal defaults so; defaults that depend on something else are written so in the help.
Value names are words (``--concurrency N``), never Python types.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from llmextract.settings import Settings, task_files
from llmextract.tasks import load_task_files

__all__ = [
    "DEFAULTS",
    "ApiKeyOpt",
    "BaseUrlOpt",
    "ConcurrencyOpt",
    "EncodingOpt",
    "EvalConcurrencyOpt",
    "ExamplesOpt",
    "LimitOpt",
    "MaxReasksOpt",
    "ModeOpt",
    "ModelOpt",
    "NoCacheOpt",
    "OutputFormat",
    "ProfileOpt",
    "PromptsDirOpt",
    "PromptsOpt",
    "RetriesOpt",
    "SeedOpt",
    "ShotsOpt",
    "SystemOpt",
    "TaskOpt",
    "TasksFileOpt",
    "at_least",
    "model_settings",
    "prompt_choice",
    "user_tasks",
]

DEFAULTS = Settings()  # the defaults the help shows are these, not copies of them


def at_least(low: int) -> Callable[[Any], Any]:
    """A check that a number option is ``low`` or more (click's ``min`` would print
    ``[x>=low]`` into the help)."""

    def check(value: float | None) -> float | None:
        if value is not None and value < low:
            raise typer.BadParameter(f"{value} is less than {low}; give {low} or more")
        return value

    return check


class OutputFormat(StrEnum):
    json = "json"
    jsonl = "jsonl"


# --- the endpoint and how hard to try: every command that asks a model -----------------------

ProfileOpt = Annotated[
    str | None,
    typer.Option(
        metavar="NAME",
        help="Endpoint profile: embedded, openai, ollama, vllm, llamacpp, or one from the "
        "config file.",
    ),
]
BaseUrlOpt = Annotated[
    str | None,
    typer.Option(metavar="URL", help="OpenAI-compatible base URL, e.g. http://localhost:11434/v1."),
]
ModelOpt = Annotated[str | None, typer.Option(metavar="NAME", help="Model name at that endpoint.")]
ApiKeyOpt = Annotated[
    str | None,
    typer.Option(
        metavar="KEY",
        help="API key (better: LLMEXTRACT_API_KEY; OPENAI_API_KEY goes only to OpenAI).",
    ),
]
ModeOpt = Annotated[
    str | None,
    typer.Option(
        metavar="MODE",
        help="Structured output: tools, json_schema, json or md_json.  [default: the profile's]",
    ),
]
MaxReasksOpt = Annotated[
    int,
    typer.Option(
        metavar="N",
        callback=at_least(0),
        help="Re-asks after an invalid or ungrounded answer.",
    ),
]
RetriesOpt = Annotated[
    int,
    typer.Option(
        metavar="N",
        callback=at_least(0),
        help="Retries after a connection error, timeout, 429 or 5xx.",
    ),
]
NoCacheOpt = Annotated[
    bool,
    typer.Option(
        "--no-cache", help="Neither read nor write the response cache (see llmextract cache)."
    ),
]
ConcurrencyOpt = Annotated[
    int,
    typer.Option(
        metavar="N",
        callback=at_least(1),
        help="Model requests in flight at once (the embedded model takes one).",
    ),
]
EvalConcurrencyOpt = Annotated[
    int | None,
    typer.Option(
        metavar="N",
        callback=at_least(1),
        help="Model requests in flight at once (the embedded model takes one).  [default: 4]",
    ),
]


def model_settings(
    *,
    profile: str | None,
    base_url: str | None,
    model: str | None,
    api_key: str | None,
    mode: str | None,
    max_reasks: int | None = None,
    retries: int | None = None,
    no_cache: bool = False,
    concurrency: int | None = None,
    prompts_dir: list[Path] | None = None,
    tasks_file: list[Path] | None = None,
    **knobs: Any,
) -> Settings:
    """Settings from the options every command that asks a model takes; None is "not given"
    (the environment, the config file or the default decides). ``knobs`` are other fields
    of :class:`Settings` (None: not given). The task files the settings name are loaded
    (:func:`user_tasks`)."""
    settings = Settings.from_env(
        profile=profile,
        base_url=base_url,
        model=model,
        api_key=api_key,
        mode=mode,
        max_reasks=max_reasks,
        transport_retries=retries,
        use_cache=not no_cache,
        concurrency=concurrency,
        prompt_dirs=prompts_dir,
        tasks_files=tasks_file,
        **knobs,
    )
    user_tasks(tasks_file)
    return settings


def user_tasks(tasks_file: list[Path] | None) -> None:
    """Load the task files named by ``--tasks-file``, the environment and the config file
    (the settings' ``tasks_files``, found the same way)."""
    load_task_files(task_files(tasks_file))


# --- what to extract ------------------------------------------------------------------------

TaskOpt = Annotated[
    list[str],
    typer.Option(
        "--task",
        "-t",
        metavar="TASK",
        help="quotes, events, stances, a task of a --tasks-file or of an installed package, "
        "or all; repeatable.",
    ),
]
TasksFileOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--tasks-file",
        metavar="FILE",
        help="A Python file declaring your own tasks (llmextract.tasks.task); also "
        "LLMEXTRACT_TASKS_FILE and the config file's tasks_files; repeatable.",
    ),
]
PromptsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--prompt",
        metavar="VERSION",
        help="Prompt version for every task (v1) or one task's prompt (quotes.v2); repeatable.  "
        "[default: each task's newest]",
    ),
]
PromptsDirOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--prompts-dir",
        metavar="DIR",
        help="A folder of your own prompts (TASK.vN.jinja), looked up before "
        "LLMEXTRACT_PROMPTS_DIR, the config file's prompt_dirs, the user prompts folder and "
        "the packaged prompts; repeatable.",
    ),
]
SystemOpt = Annotated[
    Literal["llmextract", "rules"],
    typer.Option(
        metavar="SYSTEM",
        help="llmextract asks the model; rules takes the code's candidates at its best guess, "
        "with no model (eval's rules baseline).",
    ),
]
ExamplesOpt = Annotated[
    Path | None,
    typer.Option(
        metavar="FILE",
        help="Gold JSONL (a train split) to draw few-shot examples from; copy prompts only.",
    ),
]
ShotsOpt = Annotated[
    int | None,
    typer.Option(
        metavar="N", callback=at_least(0), help="Few-shot examples per task.  [default: 0]"
    ),
]
SeedOpt = Annotated[
    int | None,
    typer.Option(metavar="N", help="Seed for drawing the examples.  [default: 0]"),
]
EncodingOpt = Annotated[str, typer.Option(metavar="NAME", help="Text encoding of the input.")]
LimitOpt = Annotated[
    int | None,
    typer.Option(metavar="N", callback=at_least(1), help="Only the first N documents."),
]


def prompt_choice(values: list[str] | None) -> str | dict[str, str] | None:
    """``--prompt`` values as the library takes them: one version, or task -> prompt."""
    if not values:
        return None
    if len(values) == 1 and "." not in values[0]:
        return values[0]
    return {value.split(".", 1)[0]: value for value in values}
