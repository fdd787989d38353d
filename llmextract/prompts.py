"""Load, identify and render the versioned prompt templates in ``prompts/``.

A prompt file is ``<task>.v<N>.jinja`` with a ``system`` and a ``user`` block. It pairs with
the task's draft schema, and its id is ``<task>.v<N>@<hash>`` where the hash covers the
template, the JSON schema the model is given and any few-shot examples: change one and the
id changes, so a scored run can always name what produced it. Templates render in Jinja's
sandbox: loading a prompt cannot run code.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from llmextract.drafts import MAX_ITEMS, DraftList, draft_list_for
from llmextract.errors import PromptError
from llmextract.schemas import TASKS, Task

__all__ = ["Prompt", "list_prompts", "load_prompt", "prompt_dir"]

_NAME = re.compile(r"^(?P<task>[a-z]+)\.v(?P<version>\d+)$")


def prompt_dir() -> Path:
    """Where the templates are: inside the installed package, else the source checkout."""
    packaged = Path(str(resources.files("llmextract"))) / "_prompts"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "prompts"


@dataclass(frozen=True)
class Prompt:
    """One versioned template, paired with the schema the model must fill."""

    name: str
    task: Task
    source: str
    schema: type[DraftList]
    id: str

    def render(self, article: str) -> list[dict[str, str]]:
        """The chat messages for one article (or chunk of one)."""
        template = _compile(self.source)
        context = template.new_context({"article": article, "max_items": MAX_ITEMS})
        messages = []
        for role in ("system", "user"):
            block = template.blocks.get(role)
            if block is None:
                raise PromptError(f"prompt {self.name} has no {{% block {role} %}}: add one")
            try:
                text = "".join(block(context)).strip()
            except jinja2.TemplateError as error:
                raise PromptError(f"prompt {self.name} failed to render: {error}") from None
            messages.append({"role": role, "content": text})
        return messages


@cache
def _environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)


@cache
def _compile(source: str) -> jinja2.Template:
    """Parse a template once, not once per chunk."""
    return _environment().from_string(source)


def _version(name: str) -> int:
    match = _NAME.match(name)
    return int(match["version"]) if match else -1


def list_prompts(task: Task | None = None) -> list[str]:
    """Names of the available prompts (``quotes.v1``, ...), oldest version first."""
    names = [p.name.removesuffix(".jinja") for p in prompt_dir().glob("*.v*.jinja")]
    names = [n for n in names if _NAME.match(n) and (task is None or n.startswith(task + "."))]
    return sorted(names, key=lambda n: (n.split(".")[0], _version(n)))


def load_prompt(task: Task, name: str | None = None) -> Prompt:
    """Load ``name`` (``quotes.v2`` or just ``v2``) for ``task``; default: its newest version."""
    if task not in TASKS:
        raise PromptError(f"unknown task {task!r}: use one of {', '.join(TASKS)}")
    available = list_prompts(task)
    if name is None:
        if not available:
            raise PromptError(f"no prompt for {task} in {prompt_dir()}: add {task}.v1.jinja")
        name = available[-1]
    elif _NAME.match(name) is None:
        name = f"{task}.{name}"
    match = _NAME.match(name)
    if match is None or match["task"] != task:
        raise PromptError(f"prompt {name!r} is not a {task} prompt: use one of {available}")
    path = prompt_dir() / f"{name}.jinja"
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as error:
        raise PromptError(
            f"prompt {name!r} not found ({error.strerror}); available: {', '.join(available)}"
        ) from None
    try:
        _environment().parse(source)
    except jinja2.TemplateSyntaxError as error:
        raise PromptError(f"{path}:{error.lineno}: {error.message}") from None
    schema = draft_list_for(task)
    return Prompt(
        name=name, task=task, source=source, schema=schema, id=_prompt_id(name, source, schema)
    )


def _prompt_id(name: str, source: str, schema: type[DraftList]) -> str:
    digest = hashlib.sha256()
    digest.update(source.encode())
    digest.update(json.dumps(schema.model_json_schema(), sort_keys=True).encode())
    return f"{name}@{digest.hexdigest()[:12]}"
