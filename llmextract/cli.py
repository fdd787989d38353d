"""The command line: parse options, call the library, print. Nothing else lives here."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import tempfile
from contextlib import nullcontext
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from llmextract.article import read_article
from llmextract.client import probe_modes
from llmextract.embedded import shared_server
from llmextract.errors import LLMExtractError
from llmextract.extract import extract
from llmextract.prompts import list_prompts, load_prompt
from llmextract.schemas import TASKS
from llmextract.settings import Settings, load_profiles

app = typer.Typer(
    help="Extract grounded quotes, events and stances from news articles with an LLM.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
endpoints_app = typer.Typer(help="List endpoint profiles and probe what an endpoint supports.")
prompts_app = typer.Typer(help="List the versioned prompt templates and their ids.")
app.add_typer(endpoints_app, name="endpoints")
app.add_typer(prompts_app, name="prompts")

_err = Console(stderr=True)
# instructor logs every failed validation at ERROR level; llmextract handles those (re-ask,
# then record as dropped), so they are not the user's errors to read.
logging.getLogger("instructor").addHandler(logging.NullHandler())
logging.getLogger("instructor").propagate = False


class OutputFormat(StrEnum):
    json = "json"
    jsonl = "jsonl"


ProfileOpt = Annotated[
    str | None,
    typer.Option(
        help="Endpoint profile: embedded, openai, ollama, vllm, llamacpp, or one from the config."
    ),
]
BaseUrlOpt = Annotated[
    str | None, typer.Option(help="OpenAI-compatible base URL, e.g. http://localhost:11434/v1.")
]
ModelOpt = Annotated[str | None, typer.Option(help="Model name at that endpoint.")]
ApiKeyOpt = Annotated[
    str | None, typer.Option(help="API key (better: LLMEXTRACT_API_KEY or OPENAI_API_KEY).")
]
ModeOpt = Annotated[
    str | None,
    typer.Option(
        help="Structured output: tools, json_schema, json or md_json (default: the profile's)."
    ),
]


def _fail(error: LLMExtractError) -> typer.Exit:
    _err.print(f"[bold red]error:[/] {error}", highlight=False, markup=True, soft_wrap=True)
    return typer.Exit(code=1)


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    # Write beside the target and rename, so a crash never leaves half a file.
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, output)


@app.command("extract")
def extract_command(
    article: Annotated[str, typer.Argument(help="Article text file, or - to read standard input.")],
    task: Annotated[
        list[str],
        typer.Option("--task", "-t", help="quotes, events, stances or all (repeatable)."),
    ] = ["all"],  # noqa: B006 - typer needs a list default
    prompt: Annotated[
        list[str] | None,
        typer.Option(
            help="Prompt version for every task (v1) or one task's prompt (quotes.v2); repeatable. "
            "Default: each task's newest.",
        ),
    ] = None,
    profile: ProfileOpt = None,
    base_url: BaseUrlOpt = None,
    model: ModelOpt = None,
    api_key: ApiKeyOpt = None,
    mode: ModeOpt = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of standard output.")
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="json (indented) or jsonl (one line).")
    ] = OutputFormat.json,
    encoding: Annotated[str, typer.Option(help="Text encoding of the article.")] = "utf-8",
    article_id: Annotated[
        str | None, typer.Option("--id", help="Id to record (default: the file name).")
    ] = None,
    max_reasks: Annotated[
        int | None,
        typer.Option(min=0, help="Re-asks after an invalid or ungrounded answer (default 2)."),
    ] = None,
    retries: Annotated[
        int | None,
        typer.Option(
            min=0, help="Retries after a connection error, timeout, 429 or 5xx (default 5)."
        ),
    ] = None,
) -> None:
    """Extract quotes, events and stances from one article and print them as JSON.

    With no endpoint configured, the embedded SmolLM2-135M model runs locally (no key, no
    network): good for trying the tool, not for real work. Every span in the output
    is grounded: its text is the article's text from its start to its end offset.
    """
    try:
        settings = Settings.from_env(
            profile=profile,
            base_url=base_url,
            model=model,
            api_key=api_key,
            mode=mode,
            max_reasks=max_reasks,
            transport_retries=retries,
        )
        source = read_article(article, encoding=encoding, article_id=article_id)
        prompts = _prompt_choice(prompt)
        status = (
            _err.status(f"Extracting from {source.id} with {settings.endpoint.model}…")
            if _err.is_terminal
            else nullcontext()
        )
        with status:
            result = extract(source, tasks=task, prompts=prompts, settings=settings)
    except LLMExtractError as error:
        raise _fail(error) from None
    indent = 2 if output_format is OutputFormat.json else None
    _write(result.model_dump_json(indent=indent) + "\n", output)


def _prompt_choice(values: list[str] | None) -> str | dict[str, str] | None:
    if not values:
        return None
    if len(values) == 1 and "." not in values[0]:
        return values[0]
    return {value.split(".", 1)[0]: value for value in values}


@endpoints_app.command("list")
def endpoints_list() -> None:
    """Show the endpoint profiles: built in, and from the config file."""
    try:
        profiles = load_profiles()
    except LLMExtractError as error:
        raise _fail(error) from None
    for name, endpoint in sorted(profiles.items()):
        url = endpoint.base_url or "(local, started on demand)"
        typer.echo(f"{name:10} {endpoint.instructor_mode:12} {endpoint.model:28} {url}")


@endpoints_app.command("check")
def endpoints_check(
    profile: ProfileOpt = None,
    base_url: BaseUrlOpt = None,
    model: ModelOpt = None,
    api_key: ApiKeyOpt = None,
) -> None:
    """Ask the endpoint one small structured question in each mode; report which work."""
    try:
        settings = Settings.from_env(
            profile=profile, base_url=base_url, model=model, api_key=api_key, transport_retries=0
        )
        url = (
            shared_server(settings.embedded_model_path).url
            if settings.endpoint.is_embedded
            else None
        )
        probes = asyncio.run(probe_modes(settings, base_url=url))
    except LLMExtractError as error:
        raise _fail(error) from None
    typer.echo(f"{settings.endpoint.display_url}  model {settings.endpoint.model}")
    for probe in probes:
        typer.echo(f"  {probe.mode:12} {'works' if probe.works else 'FAILS':6} {probe.detail}")
    working = [p.mode for p in probes if p.works]
    if not working:
        _err.print("No mode works: check the URL, model and key.")
        raise typer.Exit(code=1)
    typer.echo(f'Use --mode {working[0]} (or set mode = "{working[0]}" in its profile).')


@prompts_app.command("list")
def prompts_list() -> None:
    """Show every prompt version with its id (name@hash of template and schema)."""
    try:
        for task in TASKS:
            for name in list_prompts(task):
                typer.echo(load_prompt(task, name).id)
    except LLMExtractError as error:
        raise _fail(error) from None
