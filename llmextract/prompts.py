"""Load, identify and render the versioned prompt templates in ``prompts/``.

A prompt file is ``<task>.v<N>.jinja`` with a ``system`` and a ``user`` block. Prompts are
looked up in the user's prompt folders first (:attr:`~llmextract.settings.Settings.prompt_dirs`:
``--prompts-dir``, ``LLMEXTRACT_PROMPTS_DIR``, the config file's ``prompt_dirs``, then the
``prompts`` folder of the user config folder), then in the ``prompts`` folder beside a user
task's task file (:mod:`llmextract.tasks`), then in the package; the first file of a name
found wins. A prompt pairs with the task's draft schema, and its id is ``<task>.v<N>@<hash>``
where the hash covers the template, the JSON schema the model is given and any few-shot
examples: change one and the id changes, so a scored run can always name what produced it.
Templates render in Jinja's immutable sandbox: loading a prompt cannot run code, include
another file, or change the data it is given. A template that runs away (a huge range,
repetition or power, endless recursion, a message far larger than the article) fails with a
PromptError instead of filling the memory or spinning.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import jinja2
import jinja2.meta
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from llmextract.candidates import EventCandidate, QuoteCandidate, StanceCandidate
from llmextract.choices import base_choice_schema, choice_schema
from llmextract.chunking import split_sentences
from llmextract.drafts import DraftList
from llmextract.errors import PromptError
from llmextract.examples import Example
from llmextract.schemas import Task
from llmextract.tasks import get_task, user_task_names

__all__ = [
    "Prompt",
    "PromptStyle",
    "PromptStyleWarning",
    "Request",
    "default_prompts",
    "find_prompts",
    "list_prompts",
    "load_prompt",
    "new_prompt",
    "prompt_dir",
    "prompt_origin",
]

_NAME = re.compile(r"^(?P<task>[a-z][a-z0-9_]*)\.v(?P<version>\d+)$")
PACKAGED = "packaged"  # where a prompt of the package comes from, as prompts list shows it


def prompt_dir() -> Path:
    """Where the templates are: inside the installed package, else the source checkout."""
    packaged = Path(str(resources.files("llmextract"))) / "_prompts"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "prompts"


PromptStyle = Literal["copy", "choose"]


class PromptStyleWarning(UserWarning):
    """A prompt of one style named for an endpoint that suits the other (see prompt_for)."""


# A choice prompt's first line; a word after "choose" names another decision schema of its
# task (see llmextract.choices), e.g. {# llmextract: choose speaker #}.
_CHOOSE_MARK = re.compile(r"\{# llmextract: choose(?: (?P<decisions>[a-z]+))? #\}")
_CHOICE_LIMIT = 16  # candidates per request: one decision each keeps the answer short
# What the released v1 copy templates tell the model ("At most {{ max_items }} quotations");
# the schema enforces no such limit, and later copy prompts ask for every record.
_V1_MAX_ITEMS = 8


@dataclass(frozen=True)
class Request:
    """What to send for one passage: messages, the schema to fill, the candidates offered."""

    messages: list[dict[str, str]]
    schema: type[DraftList]
    candidates: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Prompt:
    """One versioned template, paired with the schema the model must fill.

    A ``copy`` prompt asks the model to copy spans out of the article; a ``choose`` prompt
    (its first line is ``{# llmextract: choose #}``, or ``{# llmextract: choose NAME #}``
    for the task's decision schema NAME) shows numbered candidates found by code
    (:func:`llmextract.choices.find_candidates`) and asks for one decision each.
    """

    name: str
    task: Task
    source: str
    style: PromptStyle
    schema: type[DraftList]
    id: str
    examples: tuple[Example, ...] = ()
    origin: str = PACKAGED  # the folder the template came from, or "packaged"

    def with_examples(self, examples: Sequence[Example]) -> Prompt:
        """This prompt with few-shot examples; they become part of its id."""
        if examples and self.style == "choose":
            raise PromptError(
                f"{self.name} is a choice prompt; few-shot examples go with copy prompts "
                "(--prompt v1)"
            )
        chosen = tuple(examples)
        return replace(
            self, examples=chosen, id=_prompt_id(self.name, self.source, self.schema, chosen)
        )

    def render_requests(
        self, passage: str, candidates: Sequence[Any] | None = None
    ) -> list[Request]:
        """The requests for one article (or chunk of one); none if there is nothing to ask.

        A copy prompt makes one request, and takes no ``candidates``. A choice prompt makes
        one per group of at most 16 ``candidates`` (offsets into ``passage``), so that every
        candidate is decided on and every answer stays short. Each candidate comes with its
        ``frame``: the words of its sentences around it (where its cue and first speaker
        are), for templates that show that instead of the whole passage.
        """
        if self.style == "copy":
            if candidates is not None:
                raise PromptError(
                    f"{self.name} is a copy prompt; given candidates need a choice prompt "
                    "(--prompt v2 or later)"
                )
            return [Request(self.render(passage), self.schema)]
        if candidates is None:
            raise PromptError(
                f"{self.name} is a choice prompt: give it the candidates to decide about "
                "(llmextract.choices.find_candidates)"
            )
        found = tuple(candidates)
        sentences = split_sentences(passage) if found else []
        requests = []
        for first in range(0, len(found), _CHOICE_LIMIT):
            group = found[first : first + _CHOICE_LIMIT]
            shown = [_show(self.task, passage, c, sentences) for c in group]
            messages = self.render(passage, candidates=shown)
            requests.append(Request(messages, choice_schema(self.schema, len(group)), group))
        return requests

    def render(self, article: str, **extra: Any) -> list[dict[str, str]]:
        """The chat messages for one article (or chunk of one)."""
        template = _compile(self.source)
        context = template.new_context({"article": article, "max_items": _V1_MAX_ITEMS, **extra})
        limit = len(article) + _MAX_TEMPLATE_CHARS
        messages = []
        budget = _range_left.set([_MAX_RANGE_ITEMS])
        try:
            for role in ("system", "user"):
                block = template.blocks.get(role)
                if block is None:
                    raise PromptError(f"prompt {self.name} has no {{% block {role} %}}: add one")
                text = _run(self.name, role, block(context), limit)
                messages.append({"role": role, "content": text})
        finally:
            _range_left.reset(budget)
        if self.examples:
            # Each example is a user turn with its passage and the assistant's answer to it.
            shots = []
            for example in self.examples:
                passage = {
                    **messages[1],
                    "content": _with_article(messages[1]["content"], article, example.text),
                }
                shots += [passage, {"role": "assistant", "content": json.dumps(example.answer)}]
            messages = [messages[0], *shots, messages[1]]
        return messages


def _clip(text: str, limit: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


_FRAME_SIDE = 160  # characters of frame shown on each side of a candidate


def _frame(
    passage: str, start: int, end: int, around: Sequence[int], sentences: Sequence[tuple[int, int]]
) -> str:
    """The sentences holding ``start``-``end`` and the offsets ``around`` (its cue, its
    speaker), with the candidate itself as ``[...]``: what a decision needs, without the
    passage."""
    low, high = min([start, *around]), max([end, *around])
    first = next((s for s, e in sentences if s <= low < e), low)
    last = next((e for s, e in sentences if s < high <= e), high)
    before = " ".join(passage[first:start].split())[-_FRAME_SIDE:]
    after = " ".join(passage[end:last].split())[:_FRAME_SIDE]
    return f"{before} [...] {after}".strip()


def _show(
    task: Task, passage: str, candidate: Any, sentences: Sequence[tuple[int, int]] = ()
) -> dict[str, Any]:
    """A candidate as the template shows it (plain data, clipped)."""
    if isinstance(candidate, QuoteCandidate):
        around = [m.start for m in candidate.speakers[:1]]
        if candidate.cue is not None:
            around.append(candidate.cue[0])
        return {
            "text": _clip(candidate.text),
            "speakers": [m.resolved or m.text for m in candidate.speakers] or ["unknown"],
            "kind": candidate.kind,
            "frame": _frame(passage, candidate.start, candidate.end, around, sentences),
        }
    if isinstance(candidate, EventCandidate):
        start, end = candidate.sentence
        return {
            "trigger": candidate.text,
            "sentence": _clip(passage[start:end]),
            "types": [str(t) for t in candidate.types] or [candidate.kind],
        }
    assert isinstance(candidate, StanceCandidate)
    holder = candidate.holder
    return {
        "holder": "the writer" if holder is None else holder.resolved or holder.text,
        "target": candidate.target,
        "evidence": _clip(candidate.text),
        "hint": candidate.polarity_hint or "unknown",
    }


# A template is code: a broken one must end in a PromptError, not fill the memory, spin for
# hours or escape as a Python error. These bound what one rendering may make.
_MAX_TEMPLATE_CHARS = 1_000_000  # characters a message may hold beyond the article
_MAX_RANGE_ITEMS = 100_000  # numbers all range() calls of one rendering make together
_MAX_POWER_BITS = 100_000  # size of an integer power
_TEMPLATE_FAILURES = (
    jinja2.TemplateError,
    ArithmeticError,
    LookupError,
    MemoryError,
    RecursionError,
    TypeError,
    ValueError,
)
# What is left of the range() budget of the rendering under way (a list, to count down).
_range_left: ContextVar[list[int]] = ContextVar("_range_left")


def _bounded_range(*args: int) -> range:
    """``range``, counting every number it makes against the rendering's budget, so that
    nested loops cannot multiply into billions of steps that output nothing."""
    numbers = range(*args)
    left = _range_left.get([_MAX_RANGE_ITEMS])
    left[0] -= len(numbers)
    if left[0] < 0:
        raise SecurityError(
            f"range() may make at most {_MAX_RANGE_ITEMS:,} numbers in one prompt, all loops "
            "together"
        )
    return numbers


class _NoOtherTemplates(jinja2.BaseLoader):
    """A prompt is one self-contained file: include, import and extends find nothing."""

    def get_source(self, environment: jinja2.Environment, template: str) -> Any:
        raise jinja2.TemplateNotFound(
            template,
            f"{template!r}: a prompt cannot include, import or extend another template (put "
            "everything in its one file)",
        )


class _PromptEnvironment(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, refusing repetitions and powers too large for a prompt."""

    # Intercepted operators are also no longer worked out while the template is parsed.
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for items, times in ((left, right), (right, left)):
                if (
                    isinstance(items, str | list | tuple)
                    and isinstance(times, int)
                    and len(items) * times > _MAX_TEMPLATE_CHARS
                ):
                    raise SecurityError(
                        f"a repetition making {len(items) * times:,} items; a prompt may "
                        f"repeat up to {_MAX_TEMPLATE_CHARS:,}"
                    )
        elif (
            isinstance(left, int)
            and isinstance(right, int)
            and right > 0
            and abs(left).bit_length() * right > _MAX_POWER_BITS
        ):
            raise SecurityError(f"{left} ** {right} is too large a number for a prompt")
        return super().call_binop(context, operator, left, right)


def _run(name: str, role: str, parts: Iterator[str], limit: int) -> str:
    """A block's text, or a PromptError when the template fails or outgrows ``limit``."""
    size, text = 0, []
    try:
        for part in parts:
            size += len(part)
            if size > limit:
                raise PromptError(
                    f"prompt {name} makes a {role} message of over {limit:,} characters (the "
                    f"article and {_MAX_TEMPLATE_CHARS:,} more): fix the loop or repetition "
                    "that runs away in its template"
                )
            text.append(part)
    except _TEMPLATE_FAILURES as error:
        raise PromptError(
            f"prompt {name} failed to render its {role} block: {_why(error)}; fix the template"
        ) from None
    return "".join(text).strip()


def _why(error: BaseException) -> str:
    """What went wrong in a template, as one line."""
    if isinstance(error, MemoryError):
        return "it needs more memory than there is (a huge repetition or filter width?)"
    if isinstance(error, RecursionError):
        return "it recurses without end (a macro or recursive loop that calls itself)"
    lines = str(error).splitlines()
    said = lines[0] if lines else ""
    return said if isinstance(error, jinja2.TemplateError) else f"{type(error).__name__}: {said}"


@cache
def _environment() -> _PromptEnvironment:
    environment = _PromptEnvironment(
        undefined=jinja2.StrictUndefined, autoescape=False, loader=_NoOtherTemplates()
    )
    environment.globals["range"] = _bounded_range
    return environment


@cache
def _compile(source: str) -> jinja2.Template:
    """Parse a template once, not once per chunk."""
    return _environment().from_string(source)


@cache
def _schema_json(schema: type[DraftList]) -> str:
    """Schemas are classes made once; their JSON schema is worth making once too."""
    return json.dumps(schema.model_json_schema(), sort_keys=True)


def _version(name: str) -> int:
    match = _NAME.match(name)
    return int(match["version"]) if match else -1


def _folders(dirs: Sequence[Path], task: Task | None = None) -> tuple[Path, ...]:
    """Where prompts are looked up, first found wins: ``dirs``, the ``prompts`` folders
    beside the task files of user tasks (``task``'s, or all), then the package."""
    names = user_task_names() if task is None else [task]
    beside = [get_task(name).prompt_dir for name in names]
    return tuple(dict.fromkeys((*dirs, *(d for d in beside if d is not None), prompt_dir())))


def find_prompts(task: Task | None = None, dirs: Sequence[Path] = ()) -> dict[str, Path]:
    """Each prompt's name (``quotes.v1``, ...) with the file it loads from: the first of
    ``dirs`` that has it, else the package's; oldest version first."""
    found: dict[str, Path] = {}
    for folder in _folders(dirs, task):
        for path in folder.glob("*.v*.jinja"):
            name = path.name.removesuffix(".jinja")
            if _NAME.match(name) and (task is None or name.startswith(task + ".")):
                found.setdefault(name, path)
    return {n: found[n] for n in sorted(found, key=lambda n: (n.split(".")[0], _version(n)))}


def prompt_origin(path: Path) -> str:
    """Where a prompt file comes from, as ``prompts list`` shows it: its folder, or
    ``packaged``."""
    return PACKAGED if path.parent == prompt_dir() else str(path.parent)


def default_prompts(task: Task, dirs: Sequence[Path] = ()) -> dict[PromptStyle, str]:
    """The prompt each style uses when none is named: the newest version of that style."""
    return {_style_of(path): name for name, path in find_prompts(task, dirs).items()}


def list_prompts(task: Task | None = None, dirs: Sequence[Path] = ()) -> list[str]:
    """Names of the available prompts (``quotes.v1``, ...), oldest version first."""
    return list(find_prompts(task, dirs))


def load_prompt(
    task: Task,
    name: str | None = None,
    *,
    style: PromptStyle = "copy",
    dirs: Sequence[Path] = (),
) -> Prompt:
    """Load ``name`` (``quotes.v2`` or just ``v2``) for ``task``, looking in ``dirs`` before
    the package (see :attr:`~llmextract.settings.Settings.prompt_dirs`).

    Without a name: the newest version in ``style`` (the endpoint profile says which style
    suits its model). Loaded once per process: a batch asks for the same prompt per article.
    """
    return _load_prompt(task, name, style, _folders(dirs, task))


@cache
def _load_prompt(
    task: Task, name: str | None, style: PromptStyle, folders: tuple[Path, ...]
) -> Prompt:
    spec = get_task(task)
    dirs = folders[:-1]
    found = find_prompts(task, dirs)
    available = list(found)
    if name is None:
        styled = [n for n, path in found.items() if _style_of(path) == style]
        if not styled:
            where = ", ".join(str(f) for f in folders)
            raise PromptError(f"no {style} prompt for {task} in {where}: add one")
        name = styled[-1]
    elif _NAME.match(name) is None:
        name = f"{task}.{name}"
    match = _NAME.match(name)
    if match is None or match["task"] != task:
        raise PromptError(f"prompt {name!r} is not a {task} prompt: use one of {available}")
    path = found.get(name, folders[-1] / f"{name}.jinja")
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as error:
        shown = ", ".join(f"{n} ({_style_of(p)})" for n, p in found.items())
        raise PromptError(
            f"prompt {name!r} not found ({error.strerror}); versions are numbered per task, "
            f"{task} has: {shown}. Name one task's prompt with --prompt {task}.vN"
        ) from None
    choose = _CHOOSE_MARK.match(source)
    kind: PromptStyle = "choose" if choose else "copy"
    _check_template(name, path, source, kind)
    if choose and spec.finder is None:
        raise PromptError(
            f"{path}: {task} has copy prompts only (code finds candidates for the built-in "
            "tasks alone): remove the {# llmextract: choose #} line"
        )
    schema = base_choice_schema(task, choose["decisions"] or "") if choose else spec.draft_list
    return Prompt(
        name=name,
        task=task,
        source=source,
        style=kind,
        schema=schema,
        id=_prompt_id(name, source, schema),
        origin=prompt_origin(path),
    )


def _check_template(name: str, path: Path, source: str, style: PromptStyle) -> None:
    """A PromptError naming the line to fix if ``source`` does not parse, or uses a variable
    that rendering does not give it (found now, not at the first article)."""
    try:
        parsed = _environment().parse(source)
        _compile(source)
    except jinja2.TemplateSyntaxError as error:
        raise PromptError(f"{path}:{error.lineno}: {error.message}; fix the template") from None
    except _TEMPLATE_FAILURES as error:  # constant parts are worked out while parsing
        raise PromptError(
            f"prompt {name} failed to load from {path}: {_why(error)}; fix the template"
        ) from None
    given = set(_VARIABLES[style]) | set(_environment().globals)
    unknown = sorted(jinja2.meta.find_undeclared_variables(parsed) - given)
    if unknown:
        raise PromptError(
            f"{path}: unknown variable {unknown[0]!r}; a {style} prompt is given "
            f"{', '.join(_VARIABLES[style])}: fix the template"
        )


# What a template is given to render, by style (see Prompt.render and render_requests).
_VARIABLES: dict[PromptStyle, tuple[str, ...]] = {
    "copy": ("article", "max_items"),
    "choose": ("article", "max_items", "candidates"),
}


def new_prompt(name: str, source_name: str, folder: Path, dirs: Sequence[Path] = ()) -> Path:
    """Copy prompt ``source_name`` (as found in ``dirs``, then the package) to ``folder`` as
    ``name``, to edit there; never overwrites. Returns the new file."""
    match, source_match = _NAME.match(name), _NAME.match(source_name)
    if match is None:
        raise PromptError(f"{name!r} is not a prompt name: name it like quotes.v8 (TASK.vN)")
    if source_match is None or source_match["task"] != match["task"]:
        raise PromptError(
            f"--from {source_name!r}: copy a prompt of the same task, e.g. --from "
            f"{match['task']}.v1 (llmextract prompts list shows them)"
        )
    found = find_prompts(match["task"], dirs)
    if source_name not in found:
        raise PromptError(
            f"no prompt {source_name!r}: copy one of {', '.join(found) or 'none'} "
            "(llmextract prompts list shows them)"
        )
    target = folder / f"{name}.jinja"
    if target.exists():
        raise PromptError(
            f"{target} exists: edit it, or give a new version (--from {name} to copy it "
            "further), or delete it first"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with target.open("x", encoding="utf-8") as handle:
            handle.write(found[source_name].read_text(encoding="utf-8"))
    except OSError as error:
        raise PromptError(
            f"cannot write {target} ({error.strerror}); give a folder you can write with --dir"
        ) from None
    return target


def _style_of(path: Path) -> PromptStyle:
    with path.open(encoding="utf-8") as handle:
        return "choose" if _CHOOSE_MARK.match(handle.readline()) else "copy"


def _with_article(user_message: str, article: str, passage: str) -> str:
    """The user message with the article replaced by an example passage."""
    return user_message.replace(article, passage, 1)


def _prompt_id(
    name: str, source: str, schema: type[DraftList], examples: Sequence[Example] = ()
) -> str:
    digest = hashlib.sha256()
    digest.update(source.encode())
    digest.update(_schema_json(schema).encode())
    if examples:
        shots = [{"text": e.text, "answer": e.answer} for e in examples]
        digest.update(json.dumps(shots, sort_keys=True).encode())
    return f"{name}@{digest.hexdigest()[:12]}"
