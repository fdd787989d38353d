"""``llmextract endpoints``, ``prompts`` and ``cache``: what is configured, and the cache."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from llmextract.cli.console import fail, note
from llmextract.cli.options import (
    ApiKeyOpt,
    BaseUrlOpt,
    ModelOpt,
    ModeOpt,
    ProfileOpt,
    PromptsDirOpt,
    TasksFileOpt,
    model_settings,
    user_tasks,
)
from llmextract.errors import LLMExtractError
from llmextract.settings import cache_path, load_profiles, prompt_folders, user_prompts_path

__all__ = [
    "cache_clear",
    "cache_info",
    "endpoints_check",
    "endpoints_list",
    "prompts_list",
    "prompts_new",
]


def endpoints_list() -> None:
    """Show the endpoint profiles: built in, and from the config file."""
    try:
        profiles = load_profiles()
    except LLMExtractError as error:
        raise fail(error) from None
    for name, endpoint in sorted(profiles.items()):
        url = endpoint.base_url or "(local, started on demand)"
        typer.echo(f"{name:10} {endpoint.instructor_mode:12} {endpoint.model:28} {url}")


def endpoints_check(
    profile: ProfileOpt = None,
    base_url: BaseUrlOpt = None,
    model: ModelOpt = None,
    api_key: ApiKeyOpt = None,
    mode: ModeOpt = None,
) -> None:
    """Ask the endpoint one small structured question in each mode; report which work.

    Exits 1 unless the mode these options use (--mode, else the profile's) works.
    """
    from llmextract.embedded import shared_server
    from llmextract.probe import probe_modes

    try:
        settings = model_settings(
            profile=profile, base_url=base_url, model=model, api_key=api_key, mode=mode,
            retries=0,
        )  # fmt: skip
        url = (
            shared_server(settings.embedded_model_path, settings.embedded_threads).url
            if settings.endpoint.is_embedded
            else None
        )
        probes = asyncio.run(probe_modes(settings, base_url=url))
    except LLMExtractError as error:
        raise fail(error) from None
    typer.echo(f"{settings.endpoint.display_url}  model {settings.endpoint.model}")
    for probe in probes:
        typer.echo(f"  {probe.mode:12} {'works' if probe.works else 'FAILS':6} {probe.detail}")
    working = [p.mode for p in probes if p.works]
    if not working:
        note("No mode works: check the URL, model and key.")
        raise typer.Exit(code=1)
    used = settings.endpoint.instructor_mode
    if used in working:
        typer.echo(f"These options use mode {used}, which works.")
        return
    typer.echo(
        f"These options use mode {used}, which fails: use --mode {working[0]} "
        f'(or set mode = "{working[0]}" in its profile).'
    )
    raise typer.Exit(code=1)


def prompts_list(prompts_dir: PromptsDirOpt = None, tasks_file: TasksFileOpt = None) -> None:
    """Show every prompt version: its id (name@hash of template and schema), its style (copy:
    the model copies passages; choose: it decides about candidates the code found), which
    one endpoints of each style use when none is named, and where it comes from (a folder,
    or packaged)."""
    from llmextract.prompts import default_prompts, find_prompts, load_prompt
    from llmextract.tasks import task_names

    try:
        user_tasks(tasks_file)
        dirs = prompt_folders(prompts_dir)
        typer.echo(f"{'id':28} {'style':7} {'default':8} from")
        for task in task_names():
            defaults = default_prompts(task, dirs)
            for name in find_prompts(task, dirs):
                prompt = load_prompt(task, name, dirs=dirs)
                default = "default" if defaults.get(prompt.style) == name else ""
                typer.echo(f"{prompt.id:28} {prompt.style:7} {default:8} {prompt.origin}")
    except LLMExtractError as error:
        raise fail(error) from None


class _PromptName(str):
    """A prompt's name; the help shows its form (typer would show ``<str>``)."""


_PromptName.__name__ = "TASK.vN"


def prompts_new(
    name: Annotated[
        _PromptName,
        typer.Argument(metavar="NAME", parser=_PromptName, help="The new prompt, e.g. quotes.v8."),
    ],
    source: Annotated[
        str, typer.Option("--from", metavar="PROMPT", help="The prompt to copy, e.g. quotes.v4.")
    ],
    folder: Annotated[
        Path | None,
        typer.Option(
            "--dir", metavar="DIR", help="Where to write it.  [default: the user prompts folder]"
        ),
    ] = None,
    prompts_dir: PromptsDirOpt = None,
    tasks_file: TasksFileOpt = None,
) -> None:
    """Copy a prompt to a new name in your prompts folder, to edit there; never overwrites.

    Until it is edited its id keeps the hash of the prompt it copies (the template and
    schema are the same); the name part is new.
    """
    from llmextract.prompts import new_prompt

    try:
        user_tasks(tasks_file)
        dirs = prompt_folders(prompts_dir)
        written = new_prompt(name, source, folder or user_prompts_path(), dirs)
    except LLMExtractError as error:
        raise fail(error) from None
    typer.echo(f"wrote {written}: edit it, then use it with --prompt {name}")


def cache_info() -> None:
    """Where the cache is, how many answers it holds and its size."""
    from llmextract.cache import ResponseCache

    try:
        info = ResponseCache(cache_path()).info()
    except LLMExtractError as error:
        raise fail(error) from None
    typer.echo(f"{info.path}: {info.entries} answers, {info.bytes / 1e6:.1f} MB")


def cache_clear() -> None:
    """Delete every cached answer."""
    from llmextract.cache import ResponseCache

    try:
        cache = ResponseCache(cache_path())
        removed = cache.clear()
    except LLMExtractError as error:
        raise fail(error) from None
    typer.echo(f"removed {removed} answers from {cache.path}")
