"""The command line: parse options, call the library, print. Nothing else lives here.

``app`` (the ``llmextract`` command) and its sub-apps are made here and the commands
registered on them; the commands live in :mod:`.extract` (extract, batch, render),
:mod:`.evaluate` (eval, compare, sweep, convert) and :mod:`.admin` (endpoints, prompts,
cache), the options they share in :mod:`.options` and what they print in :mod:`.console`.
"""

from __future__ import annotations

import logging
import sys
import warnings
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from llmextract import __version__
from llmextract.cli import admin, evaluate, extract
from llmextract.cli.console import show_warning

__all__ = ["app", "main"]


class _Group(TyperGroup):
    """Lists each command with its first sentence whole, wrapped to the terminal (click would
    cut it to the width with "...")."""

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=sys.maxsize)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _typer(summary: str, **settings: Any) -> typer.Typer:
    """A (sub-)app whose help is plain text: option help holds brackets and quotes that Rich
    markup would eat ('llmextract[ray]'), and plain help wraps to any width."""
    return typer.Typer(
        help=summary,
        cls=_Group,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
        **settings,
    )


app = _typer(
    "Extract grounded quotes, events and stances from news articles with an LLM.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
endpoints_app = _typer("List endpoint profiles and probe what an endpoint supports.")
prompts_app = _typer("List the versioned prompt templates and their ids, or copy one to edit.")
cache_app = _typer("Show or empty the response cache (model answers kept on disk).")

app.command("extract")(extract.extract_command)
app.command("batch")(extract.batch_command)
app.command("render")(extract.render_command)
app.command("convert")(evaluate.convert_command)
app.command("eval")(evaluate.eval_command)
app.command("compare")(evaluate.compare_command)
app.command("sweep")(evaluate.sweep_command)
app.add_typer(endpoints_app, name="endpoints")
app.add_typer(prompts_app, name="prompts")
app.add_typer(cache_app, name="cache")
endpoints_app.command("list")(admin.endpoints_list)
endpoints_app.command("check")(admin.endpoints_check)
prompts_app.command("list")(admin.prompts_list)
prompts_app.command("new")(admin.prompts_new)
cache_app.command("info")(admin.cache_info)
cache_app.command("clear")(admin.cache_clear)


def _print_version(wanted: bool) -> None:
    if wanted:
        typer.echo(f"llmextract {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Options before the command."""


def main() -> None:
    """``python -m llmextract``: the app, named as the installed command is."""
    app(prog_name="llmextract")


warnings.showwarning = show_warning
# instructor logs every failed validation at ERROR level; llmextract handles those (re-ask,
# then record as dropped), so they are not the user's errors to read.
logging.getLogger("instructor").addHandler(logging.NullHandler())
logging.getLogger("instructor").propagate = False
