"""The task registry: which tasks exist, and for each its record model, draft model, key span
and prompts; built-in tasks (quotes, events, stances) and the user's own.

A user task is a Pydantic model whose fields of type :data:`SpanText` are text copied from the
article, declared with :func:`task` in a task file::

    from typing import Literal
    from pydantic import BaseModel
    from llmextract.tasks import SpanText, task

    class Claim(BaseModel):
        claimant: SpanText | None = None
        claim: SpanText
        checkable: Literal["yes", "no"]

    task("claims", Claim, key="claim", template="claims.v1")

The model is what the model fills (its draft: every SpanText a string); the record of the
output has a :class:`~llmextract.schemas.Span` (text, start, end, alignment) for each, grounded
as the built-in tasks' spans are (:class:`~llmextract.drafts.Grounder`), nested or in lists,
with the same re-asks and salvage. Labels (``Literal``, ``Enum``) are validated as the model
declares them; other fields pass through. ``key`` is the span that places a record in the
article: records are merged across chunks and matched with gold on it.

Task files come from ``--tasks-file`` (repeatable), ``LLMEXTRACT_TASKS_FILE``, the config
file's ``tasks_files`` and the ``llmextract.tasks`` entry-point group (each entry point a
module that declares tasks when imported, or a list of :func:`task` declarations). A
``prompts`` folder beside a task file is searched for its prompts after the user's prompt
folders and before the packaged ones.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from llmextract.candidates import find_events, find_quotes, find_stances
from llmextract.drafts import (
    Draft,
    DraftList,
    EventList,
    Grounder,
    QuoteList,
    StanceList,
)
from llmextract.errors import ConfigError
from llmextract.schemas import TASKS, DocumentResult, Event, Quote, Span, Stance

__all__ = [
    "ENTRY_POINTS",
    "SpanText",
    "TaskSpec",
    "check_gold_records",
    "copied_record",
    "copy_answer",
    "get_task",
    "known_task",
    "load_task_files",
    "record_model",
    "records_of",
    "task",
    "task_names",
    "user_task_names",
]

ENTRY_POINTS = "llmextract.tasks"


class _SpanMark:
    """Marks a string field as text copied from the article (see :data:`SpanText`)."""

    def __repr__(self) -> str:
        return "SpanText"


_SPAN = _SpanMark()
SpanText = Annotated[str, _SPAN]
"""Text the model copies from the article; grounded into a Span in the record."""

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# Names a user task cannot take: a DocumentResult field, or a name of DraftList's.
_RESERVED = frozenset(DocumentResult.model_fields) | {"task", "records", "all", "list_field"}


@dataclass(frozen=True)
class TaskSpec:
    """One task: what the model fills (``draft_list``), what is emitted (``record``), the
    span that places a record (``key``), its default prompt (``template``, None: the newest
    copy prompt) and where it was declared (``origin``: ``built-in``, a file, an entry
    point). ``spans`` and ``labels`` name the record's span and label fields (dotted for
    nested ones); ``prompt_dir`` is the ``prompts`` folder beside its task file.

    ``identity``: the fields besides the key span that make a record itself, so that two
    records on one passage are merged across chunks only when these agree (two holders may
    share evidence); spans and text compare case-blind. ``finder``: the code that finds
    candidates in a passage for the task's choice prompts (None: copy prompts only).
    ``styles``: span field -> the CSS class the HTML view draws it with (a field without
    one gets a colour of its own, named in the legend). ``answer``: a gold record (as JSON)
    written as the model writes it in a worked example, None if it cannot be shown as one
    (None: as :func:`copy_answer` writes it).

    ``scorer``: the function that counts a document's records against its gold, named
    ``module:function`` so that the evaluation package is imported only when scoring; it
    takes ``(task, gold, result, criterion)`` and returns a
    :class:`~llmextract.evaluation.counts.DocumentScore` whose counts include the key span's
    field (default: per-field P/R/F1 of the key span, the other spans and the labels, see
    :mod:`llmextract.evaluation.generic`).
    Each of ``labels`` gets a confusion matrix and per-class scores. ``caption``: what the
    HTML view's side list says about a record (as the result stores it: a built-in task's as
    its model, a user task's as JSON) and the values its filters look at (None: the
    record's spans and labels)."""

    name: str
    record: type[BaseModel]
    draft_list: type[DraftList]
    key: str
    template: str | None = None
    origin: str = "built-in"
    prompt_dir: Path | None = None
    spans: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    identity: tuple[str, ...] = ()
    finder: Callable[..., Sequence[Any]] | None = None
    styles: Mapping[str, str] = field(default_factory=dict)
    answer: Callable[[Mapping[str, Any]], dict[str, Any] | None] | None = None
    scorer: str = "llmextract.evaluation.generic:score_fields"
    caption: Callable[[Any], tuple[str, dict[str, str]]] | None = None


_ARGUMENTS = ("actor", "recipient", "location", "time")  # an event's spans besides its trigger


def _text(span: Mapping[str, Any] | None) -> str | None:
    return None if span is None else str(span["text"])


def _quote_answer(record: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "content": _text(record["content"]),
        "speaker": _text(record["speaker"]) or "",
        "speaker_name": record["speaker_name"],
        "cue": _text(record["cue"]) or "",
        "kind": record["kind"],
    }


def _event_answer(record: Mapping[str, Any]) -> dict[str, Any] | None:
    if record["type"] is None:  # an event of no PLOVER type cannot be shown as an answer
        return None
    return {
        "type": record["type"],
        "trigger": _text(record["trigger"]),
        **{role: _text(record[role]) for role in _ARGUMENTS},
        "summary": record["summary"],
    }


def _stance_answer(record: Mapping[str, Any]) -> dict[str, Any] | None:
    if record["holder"] is None:  # nor a stance without a holder
        return None
    return {
        "holder": _text(record["holder"]),
        "holder_name": record["holder_name"],
        "target": record["target"],
        "polarity": record["polarity"],
        "evidence": _text(record["evidence"]),
    }


def _quote_caption(quote: Quote) -> tuple[str, dict[str, str]]:
    who = quote.speaker_name or (quote.speaker.text if quote.speaker else "unknown")
    return f"{who} ({quote.kind}): {quote.content.text}", {"speaker": who}


def _event_caption(event: Event) -> tuple[str, dict[str, str]]:
    actor = f" by {event.actor.text}" if event.actor else ""
    kind = event.type.value if event.type is not None else event.kind or "untyped"
    return f"{kind}: {event.trigger.text}{actor}", {"type": kind}


def _stance_caption(stance: Stance) -> tuple[str, dict[str, str]]:
    who = stance.holder_name or (stance.holder.text if stance.holder else "the writer")
    return f"{who} {stance.polarity} {stance.target}: {stance.evidence.text}", {"speaker": who}


_SCORERS = "llmextract.evaluation.scorers"
_BUILTIN = {
    spec.name: spec
    for spec in (
        TaskSpec(
            "quotes", Quote, QuoteList, "content", spans=("content", "speaker", "cue"),
            labels=("kind",), finder=find_quotes, answer=_quote_answer,
            styles={"content": "q-content", "speaker": "q-speaker", "cue": "q-cue"},
            scorer=f"{_SCORERS}:score_quotes", caption=_quote_caption,
        ),
        TaskSpec(
            "events", Event, EventList, "trigger", spans=("trigger", *_ARGUMENTS),
            labels=("type",), identity=("type", "kind", "actor"), finder=find_events,
            answer=_event_answer,
            styles={"trigger": "e-trigger", **dict.fromkeys(_ARGUMENTS, "e-arg")},
            scorer=f"{_SCORERS}:score_events", caption=_event_caption,
        ),
        TaskSpec(
            "stances", Stance, StanceList, "evidence", spans=("evidence", "holder"),
            labels=("polarity",), identity=("holder", "target", "polarity"),
            finder=find_stances, styles={"evidence": "s-evidence", "holder": "s-holder"},
            answer=_stance_answer, scorer=f"{_SCORERS}:score_stances", caption=_stance_caption,
        ),
    )
}  # fmt: skip
_user: dict[str, TaskSpec] = {}
_loaded_files: set[Path] = set()
_entry_points_loaded = False
_declaring: list[TaskSpec] | None = None  # while a task file is imported: what it declares
_declaring_from: Path | None = None


# --- the shape of a user model ---------------------------------------------------------------


def _is_span(annotation: Any) -> bool:
    return get_origin(annotation) is Annotated and any(m is _SPAN for m in annotation.__metadata__)


def _optional(annotation: Any) -> Any | None:
    """``X`` of ``X | None``; None if ``annotation`` is not optional."""
    if get_origin(annotation) in (Union, types.UnionType):
        rest = [a for a in get_args(annotation) if a is not type(None)]
        if len(rest) == 1 and len(get_args(annotation)) == 2:
            return rest[0]
    return None


def _annotation(model: type[BaseModel], name: str) -> Any:
    """A field's annotation with its metadata (a top-level SpanText keeps its mark)."""
    return model.model_fields[name].rebuild_annotation()


def _is_label(annotation: Any) -> bool:
    return get_origin(annotation) is Literal or (
        isinstance(annotation, type) and issubclass(annotation, Enum)
    )


def _walk(model: type[BaseModel], prefix: str = "") -> Iterable[tuple[str, str]]:
    """``(dotted field, "span" | "label")`` for every span and label field of ``model``."""
    for name in model.model_fields:
        annotation = _annotation(model, name)
        inner = _optional(annotation) or annotation
        if get_origin(inner) is list:
            inner = get_args(inner)[0]
        if _is_span(inner):
            yield prefix + name, "span"
        elif _is_label(inner):
            yield prefix + name, "label"
        elif isinstance(inner, type) and issubclass(inner, BaseModel):
            yield from _walk(inner, f"{prefix}{name}.")


def _record_annotation(annotation: Any, made: dict[type, type]) -> Any:
    """``annotation`` with every SpanText a Span, and models holding one their record form."""
    if _is_span(annotation):
        return Span
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        parts = tuple(_record_annotation(a, made) for a in get_args(annotation))
        return Union[parts]  # noqa: UP007 - built from a tuple
    if origin is list:
        return list[_record_annotation(get_args(annotation)[0], made)]  # type: ignore[misc]
    if (
        isinstance(annotation, type)
        and issubclass(annotation, BaseModel)
        and any(kind == "span" for _, kind in _walk(annotation))
    ):
        return _record_form(annotation, made)
    return annotation


class _UserRecord(BaseModel):
    """A record of a user task: frozen, no extra keys; ``passage`` is its key span."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _record_form(model: type[BaseModel], made: dict[type, type], key: str | None = None) -> type:
    if model in made:
        return made[model]
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        annotation = _record_annotation(_annotation(model, name), made)
        if info.is_required():
            fields[name] = (annotation, ...)
        elif info.default_factory is not None:
            fields[name] = (annotation, Field(default_factory=info.default_factory))
        else:
            fields[name] = (annotation, info.default)
    namespace: dict[str, Any] = {}
    if key is not None:
        namespace["passage"] = property(lambda self: getattr(self, key))
    base = type(f"_{model.__name__}Record", (_UserRecord,), namespace) if namespace else _UserRecord
    record: type[BaseModel] = create_model(
        model.__name__, __base__=base, __module__=model.__module__, **fields
    )
    record.__doc__ = model.__doc__
    made[model] = record
    return record


# --- grounding a user draft ------------------------------------------------------------------


class _Failed:
    """A required span that could not be grounded: the value holding it fails too."""


_FAILED = _Failed()
_DRAFTS: dict[type, str] = {}  # draft class -> its task's key field


def _ground_value(g: Grounder, annotation: Any, value: Any, path: str, near: int | None) -> Any:
    inner = _optional(annotation)
    if inner is not None:
        if value is None:
            return None
        grounded = _ground_value(g, inner, value, path, near)
        return None if grounded is _FAILED else grounded
    if _is_span(annotation):
        if value is None or not str(value).strip():
            g.failed.append(f"{path} is empty")
            return _FAILED
        found = g.span(path, str(value), near=near)
        return _FAILED if found is None else found
    if get_origin(annotation) is list:
        item = get_args(annotation)[0]
        grounded = [
            _ground_value(g, item, v, f"{path}[{i}]", near) for i, v in enumerate(value or [])
        ]
        return [v for v in grounded if v is not _FAILED]
    if isinstance(value, BaseModel):
        return _ground_fields(g, value, f"{path}.", near)
    return value


def _ground_fields(g: Grounder, draft: BaseModel, prefix: str, near: int | None) -> Any:
    """The draft's fields, grounded, as a dict; _FAILED if a required one failed."""
    values: dict[str, Any] = {}
    model = type(draft)
    for name in model.model_fields:
        grounded = _ground_value(
            g, _annotation(model, name), getattr(draft, name), prefix + name, near
        )
        if grounded is _FAILED:
            return _FAILED
        values[name] = grounded
    return values


class _UserDraft(Draft):
    """What the model fills for a user task: the user's model, grounded generically."""

    def ground(self, g: Grounder) -> Any:
        key = _DRAFTS[type(self)]
        model = type(self)
        passage = _ground_value(g, _annotation(model, key), getattr(self, key), key, None)
        if passage is _FAILED:
            return None
        g.passage = passage
        values = _ground_fields(g, self, "", passage.start)
        if values is _FAILED:
            return None
        return _RECORDS[model].model_validate(values)

    def key(self) -> tuple[Any, ...]:
        return (json.dumps(self.model_dump(mode="json"), sort_keys=True).casefold(),)


_RECORDS: dict[type, type[BaseModel]] = {}  # draft class -> record model


# --- declaring and finding tasks -------------------------------------------------------------


def task(
    name: str,
    model: type[BaseModel],
    *,
    key: str,
    template: str | None = None,
) -> TaskSpec:
    """Declare a user task: records of ``model``, placed and matched by the span ``key``,
    prompted by ``template`` (a prompt name such as ``claims.v1``; None: the newest copy
    prompt of the task). In a task file, the task is registered once the file has loaded."""
    where = str(_declaring_from) if _declaring_from is not None else "task()"
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(
            f"{where}: task name {name!r}: use lower-case letters, digits and _ (e.g. claims)"
        )
    if name in _RESERVED or name in TASKS:
        raise ConfigError(f"{where}: task name {name!r} is taken: choose another")
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise ConfigError(f"{where}: task {name}: give a pydantic BaseModel class, not {model!r}")
    kinds = dict(_walk(model))
    # A record is placed by its key: a SpanText it always has (not optional, not a list).
    top_spans = [n for n in model.model_fields if _is_span(_annotation(model, n))]
    if not top_spans:
        raise ConfigError(
            f"{where}: task {name}: {model.__name__} has no SpanText field to match records on: "
            "mark the text copied from the article as SpanText (a required one)"
        )
    if key not in top_spans:
        raise ConfigError(
            f"{where}: task {name}: key {key!r} is not a required SpanText field of "
            f"{model.__name__}: use one of {', '.join(top_spans)}"
        )
    if template is not None and not re.match(rf"^{name}\.v\d+$", template):
        raise ConfigError(
            f"{where}: task {name}: template {template!r}: name a prompt of the task, e.g. "
            f"{name}.v1"
        )
    made: dict[type, type] = {}
    record = _record_form(model, made, key)
    draft = type(f"{model.__name__}Draft", (model, _UserDraft), {"__module__": model.__module__})
    _DRAFTS[draft], _RECORDS[draft] = key, record
    # Required, like the built-in lists: an answer of another shape is re-asked, not read as
    # none found. No length limit: the request's max_tokens bounds an answer.
    items: Any = (list[draft], ...)  # type: ignore[valid-type]
    listing = create_model(
        f"{model.__name__}List", __base__=DraftList, __module__=model.__module__, **{name: items}
    )
    listing.__doc__ = model.__doc__ or f"The {name} in the article."
    listing.task, listing.list_field, listing.item_model = name, name, draft
    folder = None if _declaring_from is None else _declaring_from.parent / "prompts"
    spec = TaskSpec(
        name=name,
        record=record,
        draft_list=listing,
        key=key,
        template=template,
        origin=where,
        prompt_dir=folder if folder is not None and folder.is_dir() else None,
        spans=tuple(n for n, kind in kinds.items() if kind == "span"),
        labels=tuple(n for n, kind in kinds.items() if kind == "label"),
    )
    if _declaring is not None:
        _declaring.append(spec)
    else:
        _register([spec])
    return spec


def _register(specs: Sequence[TaskSpec]) -> None:
    names = [spec.name for spec in specs]
    for spec in specs:
        other = _user.get(spec.name)
        if (other is not None and other.origin != spec.origin) or names.count(spec.name) > 1:
            where = other.origin if other is not None else spec.origin
            raise ConfigError(
                f"two tasks named {spec.name!r} ({where} and {spec.origin}): rename one"
            )
    for spec in specs:
        _user[spec.name] = spec


def load_task_files(paths: Iterable[Path]) -> None:
    """Import each task file once and register the tasks it declares; a file that does not
    import, or declares a task wrongly, is a ConfigError naming it."""
    global _declaring, _declaring_from
    for path in paths:
        resolved = Path(path).resolve()
        if resolved in _loaded_files:
            continue
        if not resolved.is_file():
            raise ConfigError(f"task file {path} does not exist: fix the path")
        module_name = f"llmextract_tasks_{len(_loaded_files)}_{resolved.stem}"
        spec = importlib.util.spec_from_file_location(module_name, resolved)
        if spec is None or spec.loader is None:
            raise ConfigError(f"task file {path}: not a Python file: give a .py file")
        module = importlib.util.module_from_spec(spec)
        _declaring, _declaring_from = [], resolved
        try:
            sys.modules[module_name] = module
            spec.loader.exec_module(module)
            declared = list(_declaring)
        except ConfigError:
            sys.modules.pop(module_name, None)
            raise
        except Exception as error:  # the user's code: whatever it raises is theirs to fix
            sys.modules.pop(module_name, None)
            line = _line_of(error, resolved)
            raise ConfigError(
                f"task file {path}{line} does not import ({type(error).__name__}: {error}): fix it"
            ) from None
        finally:
            _declaring, _declaring_from = None, None
        _register(declared)
        _loaded_files.add(resolved)


def _line_of(error: BaseException, path: Path) -> str:
    if isinstance(error, SyntaxError) and error.lineno:
        return f":{error.lineno}"
    frame = error.__traceback__
    line = ""
    while frame is not None:
        if Path(frame.tb_frame.f_code.co_filename).resolve() == path:
            line = f":{frame.tb_lineno}"
        frame = frame.tb_next
    return line


def _load_entry_points() -> None:
    """Load every ``llmextract.tasks`` entry point once: a module that declares tasks when
    imported, or a list of :func:`task` declarations; a ``prompts`` folder beside the module
    is searched for their prompts, as beside a task file."""
    global _entry_points_loaded, _declaring, _declaring_from
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for point in entry_points(group=ENTRY_POINTS):
        label = f"entry point {point.name} = {point.value} ({ENTRY_POINTS})"
        # A module imported before (by a task file, say) declares nothing on this load.
        imported = point.module in sys.modules
        _declaring, _declaring_from = [], None
        try:
            loaded = point.load()
            declared = list(_declaring)
        except ConfigError as error:
            # task() names no file here ("task(): ..."): the entry point is where to look.
            said = str(error).removeprefix("task(): ")
            raise ConfigError(f"{label}: {said}") from None
        except Exception as error:  # a plugin's code: whatever it raises is for its author
            raise ConfigError(
                f"{label} does not load ({type(error).__name__}: {error}): fix or uninstall "
                "the package"
            ) from None
        finally:
            _declaring, _declaring_from = None, None
        if isinstance(loaded, list | tuple):
            declared += [s for s in loaded if isinstance(s, TaskSpec) and s not in declared]
        if not declared and not imported:
            raise ConfigError(
                f"{label} declares no task: point it at a module that calls task(), or at a "
                "list of task() declarations"
            )
        module_file = getattr(sys.modules.get(point.module), "__file__", None)
        folder = None if module_file is None else Path(module_file).parent / "prompts"
        prompts = folder if folder is not None and folder.is_dir() else None
        origin = f"entry point {point.name}"
        _register(
            [
                s
                if s.origin != "task()"
                else replace(s, origin=origin, prompt_dir=s.prompt_dir or prompts)
                for s in declared
            ]
        )


def user_task_names() -> tuple[str, ...]:
    """The user tasks registered, in the order declared."""
    _load_entry_points()
    return tuple(_user)


def task_names() -> tuple[str, ...]:
    """Every task: the built-in ones, then the user's."""
    return (*TASKS, *user_task_names())


def get_task(name: str) -> TaskSpec:
    """The task named ``name``; a ConfigError listing the tasks if there is none."""
    if name in _BUILTIN:
        return _BUILTIN[name]
    _load_entry_points()
    if name not in _user:
        raise ConfigError(
            f"unknown task {name!r}: use {', '.join(task_names())} or all (declare your own "
            "in a task file: --tasks-file FILE)"
        )
    return _user[name]


def known_task(name: str) -> TaskSpec | None:
    """The task named ``name`` if it is declared here (built in, or its task file loaded)."""
    if name not in _BUILTIN:
        _load_entry_points()
    return _BUILTIN.get(name) or _user.get(name)


def record_model(name: str) -> type[BaseModel]:
    return get_task(name).record


def records_of(result: DocumentResult, name: str) -> list[Any]:
    """The records of task ``name`` in ``result``, as their record model."""
    record = get_task(name).record
    return [record.model_validate(r) for r in result.stored(name)]


# --- answers from gold -----------------------------------------------------------------------


def _copied(value: Any, passage: str, offset: int) -> Any:
    """A gold value as the model would copy it: spans as their text (None if outside the
    passage), nested records and lists likewise."""
    if isinstance(value, Mapping) and {"start", "end"} <= set(value):
        start, end = int(value["start"]) - offset, int(value["end"]) - offset
        return passage[start:end] if 0 <= start <= end <= len(passage) else None
    if isinstance(value, Mapping):
        return {k: _copied(v, passage, offset) for k, v in value.items()}
    if isinstance(value, list):
        return [v for v in (_copied(x, passage, offset) for x in value) if v is not None]
    return value


def copy_answer(
    name: str, gold: Sequence[Mapping[str, Any]], passage: str, offset: int = 0
) -> dict[str, Any]:
    """The copy prompt's answer for task ``name`` that a perfect model gives about
    ``passage`` (which starts at ``offset`` in the article), made from the task's gold
    records (spans as ``{"start", "end", "text"}`` into the article, labels as values):
    every record whose key span lies in the passage, each span copied as its text."""
    items = [copied_record(name, record, passage, offset) for record in gold]
    return {name: [item for item in items if item is not None]}


def copied_record(
    name: str, record: Mapping[str, Any], passage: str, offset: int = 0
) -> dict[str, Any] | None:
    """One gold record of task ``name`` as :func:`copy_answer` writes it (empty fields left
    out); None if its key span is not in the passage."""
    copied = _copied(dict(record), passage, offset)
    if copied.get(get_task(name).key) is None:
        return None
    return {k: v for k, v in copied.items() if v is not None}


def check_gold_records(name: str, records: Sequence[Any]) -> list[BaseModel]:
    """Gold records of a user task as its record model; a ValueError saying what is wrong."""
    model = record_model(name)
    checked = []
    for index, record in enumerate(records):
        try:
            checked.append(model.model_validate(record))
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ValueError(f"{name}[{index}].{where}: {first['msg']}") from None
    return checked
