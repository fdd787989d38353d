"""The extraction pipeline, top to bottom.

For each task of an article, its prompt is loaded and the article split into chunks on
sentence boundaries; then, for each chunk (a passage):

1. candidates: what the code finds for a choice prompt to offer (:func:`find_candidates`;
   given ones instead, when the caller has them; none for a copy prompt);
2. prompt: the requests that show the passage, and the candidates in groups
   (:meth:`Prompt.render_requests`);
3. model: each request asked of the model (:meth:`ModelClient.ask`: retried, cached);
4. ground: the answer validated against the draft schema with the passage as validation
   context (:func:`grounding_context`), whose validators ground every span;
5. re-ask / salvage: an ungrounded or invalid answer is re-asked by instructor with the
   error; once the re-asks are spent, or the answer was cut off at the token limit, what can
   be grounded of it is kept (:func:`_salvaged`), and a cut-off passage is first split in two
   overlapping halves and asked again (:func:`_halves`);

then the chunks' records are merged (:func:`merge_records`) into one
:class:`~llmextract.schemas.DocumentResult`, with the corrections of the records kept
(:func:`_corrections_of`) and what was dropped.
"""

from __future__ import annotations

import asyncio
import time
import warnings
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import llmextract
from llmextract.article import Article
from llmextract.choices import ChoiceList, find_candidates
from llmextract.chunking import make_chunks, split_sentences
from llmextract.client import AnswerError, InvalidAnswerError, ModelClient, TruncatedAnswerError
from llmextract.drafts import Corrected, DraftList, grounding_context, salvage, usable_answer
from llmextract.embedded import CODE_DECIDED_NOTICE, EMBEDDED_NOTICE, shared_server
from llmextract.errors import ConfigError, EndpointAnswerError, InputError
from llmextract.examples import Example
from llmextract.prompts import (
    Prompt,
    PromptStyle,
    PromptStyleWarning,
    Request,
    default_prompts,
    load_prompt,
)
from llmextract.retry import document_deadline
from llmextract.schemas import TASKS, Correction, DocumentResult, Dropped, Span, Task, Usage
from llmextract.settings import Settings
from llmextract.tasks import get_task, load_task_files, task_names

__all__ = ["aextract", "extract", "merge_records", "model_client", "parse_tasks", "prompt_for"]

_MAX_SPLITS = 4  # an answer cut off at the token limit splits its chunk at most this deep


def parse_tasks(names: Iterable[str]) -> tuple[Task, ...]:
    """``["all"]`` or task names -> tasks in canonical order (the built-in ones, then the
    user's, see :mod:`llmextract.tasks`), without repeats."""
    known = task_names()
    wanted: set[str] = set()
    for name in names:
        for part in name.split(","):
            part = part.strip()
            if part == "all":
                wanted.update(known)
            elif part:
                wanted.add(get_task(part).name)
    return tuple(task for task in known if task in wanted) or known


def prompt_for(
    task: Task,
    prompts: str | Mapping[str, str] | None,
    style: PromptStyle,
    dirs: Sequence[Path] = (),
) -> Prompt:
    """``prompts`` is one version for every task (``v2``) or task -> name; None: by style.
    ``dirs`` are the user's prompt folders, looked up before the package's.

    A copy prompt named for an endpoint whose profile uses choice prompts (a small model,
    such as the embedded one) draws a :class:`~llmextract.prompts.PromptStyleWarning`.
    """
    if isinstance(prompts, Mapping):
        unknown = set(prompts) - set(task_names())
        if unknown:
            raise ConfigError(
                f"prompts named for unknown tasks {sorted(unknown)}: name them as "
                "quotes.v2, events.v1 or stances.v1"
            )
        prompts = prompts.get(task)
    spec = get_task(task)
    if spec.finder is None:  # copy prompts only: no code finds the task's candidates
        return load_prompt(task, prompts or spec.template, style="copy", dirs=dirs)
    prompt = load_prompt(task, prompts, style=style, dirs=dirs)
    if prompt.style == "copy" and style == "choose":
        warnings.warn(
            PromptStyleWarning(
                f"{prompt.name} is a copy prompt (the model copies passages), but this "
                "endpoint uses choice prompts: a small model such as the embedded one copies "
                f"badly and scores near zero. Use a choice prompt ({task}.v"
                f"{default_prompts(task, dirs)['choose'].rsplit('.v', 1)[1]}) or a real model"
            ),
            stacklevel=2,
        )
    return prompt


async def aextract(
    article: Article | str,
    *,
    tasks: Iterable[str] = TASKS,
    prompts: str | Mapping[str, str] | None = None,
    settings: Settings | None = None,
    client: ModelClient | None = None,
    examples: Mapping[str, Sequence[Example]] | None = None,
    given: Mapping[Task, Sequence[Any]] | None = None,
) -> DocumentResult:
    """Extract grounded quotes, events and stances from one article.

    ``article`` is an :class:`Article` or its text. ``settings`` default to the environment
    (see :mod:`llmextract.settings`); with no endpoint configured the embedded model is used.
    Pass ``client`` to reuse one connection for many articles, and ``examples`` (task ->
    few-shot examples, see :mod:`llmextract.examples`) to show the model worked examples.

    ``given`` maps a task to candidates (:mod:`llmextract.candidates` records, offsets into
    the article) for the model to decide about instead of those the code finds, e.g. gold
    phrases whose polarity is to be classified. Such a task uses its choice prompt and sees
    the whole article, unchunked: it must fit the model's context.
    """
    started = time.perf_counter()
    if isinstance(article, str):
        if not article.strip():
            raise InputError("the article is empty; give an article with some text")
        article = Article("article", article)
    settings = settings or Settings.from_env()
    load_task_files(settings.tasks_files)
    given = given or {}
    chosen = [
        prompt_for(
            task,
            prompts,
            "choose" if task in given else settings.endpoint.prompt_style,
            settings.prompt_dirs,
        )
        for task in parse_tasks(tasks)
    ]
    if examples:
        chosen = [p.with_examples(examples.get(p.task, ())) for p in chosen]
    usage = Usage()
    async with model_client(settings, client) as model:
        text = article.text
        try:
            # A task that fails fails the document: its other tasks stop asking at once.
            async with document_deadline(settings.document_timeout_s), asyncio.TaskGroup() as group:
                running = [
                    group.create_task(
                        _extract_task(model, prompt, text, settings, usage, given.get(prompt.task))
                    )
                    for prompt in chosen
                ]
        except BaseExceptionGroup as failed:
            raise failed.exceptions[0] from None
        answers = [task.result() for task in running]
    result = DocumentResult(
        id=article.id,
        sha256=article.sha256,
        chars=len(article.text),
        model=settings.endpoint.model,
        endpoint=settings.endpoint.display_url,
        prompts={prompt.task: prompt.id for prompt in chosen},
        usage=usage,
        notice=_notice(settings, usage),
        llmextract_version=llmextract.__version__,
    )
    for prompt, (records, corrected, dropped) in zip(chosen, answers, strict=True):
        result.store(prompt.task, records)
        result.corrected.extend(corrected)
        result.dropped.extend(dropped)
    result.seconds = round(time.perf_counter() - started, 3)
    return result


def _notice(settings: Settings, usage: Usage) -> str | None:
    """What a reader of an embedded model's result must know: whether the model made it."""
    if not settings.endpoint.is_embedded:
        return None
    return EMBEDDED_NOTICE if usage.requests or usage.cached else CODE_DECIDED_NOTICE


def extract(article: Article | str, **options: Any) -> DocumentResult:
    """Blocking :func:`aextract`; also works where an event loop already runs (notebooks)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(aextract(article, **options))
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, aextract(article, **options)).result()


@asynccontextmanager
async def model_client(
    settings: Settings, client: ModelClient | None = None
) -> AsyncIterator[ModelClient]:
    """``client`` if given, else a new client for ``settings``, closed on exit. With no
    endpoint named, the client starts the embedded model on its first request: a run whose
    decisions are all the code's (see :func:`_decided_by_code`) never starts it."""
    if client is not None:
        yield client
        return
    connect = None
    if settings.endpoint.is_embedded:

        def connect() -> str:
            return shared_server(settings.embedded_model_path, settings.embedded_threads).url

    model = ModelClient(settings, connect=connect)
    try:
        yield model
    finally:
        await model.aclose()


@dataclass
class _Found:
    """What a task found in a passage: records, the corrections made to them (each with its
    record), and what was dropped."""

    records: list[Any] = field(default_factory=list)
    corrected: list[Corrected] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)

    def add(self, more: _Found | DraftList) -> None:
        self.records.extend(more.records)
        self.corrected.extend(more.corrected)
        self.dropped.extend(more.dropped)


async def _extract_task(
    model: ModelClient,
    prompt: Prompt,
    text: str,
    settings: Settings,
    usage: Usage,
    given: Sequence[Any] | None = None,
) -> tuple[list[Any], list[Correction], list[Dropped]]:
    if given is not None:  # one decision per given candidate, against the whole article
        found = await _extract_passage(
            model, prompt, text, 0, len(text), usage, depth=_MAX_SPLITS, given=given
        )
        return found.records, _corrections_of(found.records, found.corrected), found.dropped
    chunks = make_chunks(
        text,
        max_chars=settings.endpoint.chunk_chars,
        overlap_chars=settings.chunk_overlap_chars,
    )
    found = _Found()
    for chunk in chunks:
        found.add(
            await _extract_passage(model, prompt, text, chunk.start, chunk.end, usage, depth=0)
        )
    records = merge_records(found.records, get_task(prompt.task).identity)
    return records, _corrections_of(records, found.corrected), found.dropped


async def _extract_passage(
    model: ModelClient,
    prompt: Prompt,
    text: str,
    start: int,
    end: int,
    usage: Usage,
    *,
    depth: int,
    given: Sequence[Any] | None = None,
    retried: bool = False,
) -> _Found:
    """Records from ``text[start:end]``; a cut-off answer splits the passage in two.

    A choice prompt may need several requests (one per group of candidates); a passage cut
    off in one of them is only split when it is its only request, since splitting re-asks
    about every candidate of the passage. An answer that is still no JSON of the task after
    its re-asks also splits the passage, once (``retried`` then): a model that garbles one
    answer in a row of three costs that passage a new try, not the document.
    """
    passage = text[start:end]
    candidates = _candidates(prompt, passage, given)
    requests = prompt.render_requests(passage, candidates)  # none: no candidates found
    found = _Found()
    for request in requests:
        context = grounding_context(passage, offset=start, candidates=request.candidates)
        decided = _decided_by_code(model, request)
        if decided is not None:  # the code's defaults, unasked
            defaults = decided.default_answer(request.candidates)
            found.add(decided.model_validate(defaults, context=context))
            continue
        try:
            answer = await model.ask(
                request.messages, request.schema, context=context, usage=usage, label=prompt.task
            )
        except TruncatedAnswerError as error:
            halves = _halves(passage)
            if len(requests) == 1 and depth < _MAX_SPLITS and halves is not None:
                _keep_if_usable(request, error)  # a rerun replays it, then the halves
                return await _halves_found(
                    model, prompt, text, start, end, usage, halves, depth, retried
                )
            answer = _salvaged(prompt.task, request, error, passage, start)
        except InvalidAnswerError as error:
            halves = _halves(passage)
            garbled = not usable_answer(request.schema, error.raw)
            if garbled and not retried and len(requests) == 1 and halves is not None:
                return await _halves_found(model, prompt, text, start, end, usage, halves, depth)
            answer = _salvaged(prompt.task, request, error, passage, start)
        found.add(answer)
    return found


def _decided_by_code(model: ModelClient, request: Request) -> type[ChoiceList] | None:
    """The request's decision schema when it would ask the embedded model decisions that
    no answer of it can change (:meth:`~llmextract.choices.ChoiceList.decided_by_code`):
    the code's defaults are then taken without a request. None: ask the model."""
    schema = request.schema
    if not model.settings.endpoint.is_embedded or not issubclass(schema, ChoiceList):
        return None
    return schema if schema.decided_by_code() else None


async def _halves_found(
    model: ModelClient,
    prompt: Prompt,
    text: str,
    start: int,
    end: int,
    usage: Usage,
    halves: tuple[int, int],
    depth: int,
    retried: bool = True,
) -> _Found:
    """What the two halves of ``text[start:end]`` (see :func:`_halves`) give, asked anew."""
    first_end, second_start = halves
    found = await _extract_passage(
        model, prompt, text, start, start + first_end, usage, depth=depth + 1, retried=retried
    )
    found.add(
        await _extract_passage(
            model, prompt, text, start + second_start, end, usage, depth=depth + 1, retried=retried
        )
    )
    return found


def _candidates(prompt: Prompt, passage: str, given: Sequence[Any] | None) -> Sequence[Any] | None:
    """What a choice prompt offers the model about ``passage``: ``given`` if the caller has
    candidates, else what the code finds; None for a copy prompt, which offers nothing."""
    if given is not None:
        return given
    return find_candidates(prompt.task, passage) if prompt.style == "choose" else None


def _keep_if_usable(request: Request, error: AnswerError) -> bool:
    """True if the failed answer is the task's JSON, whose items may be salvaged; then the
    request's answers are cached like a valid one's (else a rerun asks again)."""
    if not usable_answer(request.schema, error.raw):
        return False
    error.keep()
    return True


def _salvaged(
    task: Task, request: Request, error: AnswerError, passage: str, start: int
) -> DraftList:
    """What can be grounded of an answer that failed validation or was cut off; the
    document fails when that answer is not the task's JSON at all."""
    if not _keep_if_usable(request, error):
        if isinstance(error, InvalidAnswerError):
            raise EndpointAnswerError(
                f"the model gave no usable answer for {task} after {error.tries} tries "
                f"({error.why}); retry with --retry-errors, or try another --mode (llmextract "
                "endpoints check shows which work)"
            ) from None
        raise EndpointAnswerError(f"the model gave no usable answer for {task}: {error}") from None
    return salvage(
        request.schema,
        error.raw,
        passage,
        offset=start,
        why=error.why,
        cut_off=isinstance(error, TruncatedAnswerError),
        candidates=request.candidates,
    )


def _halves(passage: str) -> tuple[int, int] | None:
    """Where the first half of a cut-off ``passage`` ends and the second starts, if it has two
    sentences: the sentence boundaries nearest two thirds and one third of the way, so that
    the halves overlap by about a third and a record up to that long (a quotation running over
    several sentences) is whole in one of them; the merge drops what both halves found."""
    sentences = split_sentences(passage)
    if len(sentences) < 2:
        return None
    size = len(passage)
    second = min((s[0] for s in sentences[1:]), key=lambda offset: abs(3 * offset - size))
    ends = [s[1] for s in sentences[:-1] if s[1] > second]
    first = min(ends, key=lambda offset: abs(3 * offset - 2 * size)) if ends else second
    return first, second


def merge_records(records: list[Any], identity: Sequence[str] = ()) -> list[Any]:
    """Records in text order; one of each record found twice in overlapping chunks (and a
    quote nested in another merged into it): two records on one passage are one when their
    ``identity`` fields (:attr:`~llmextract.tasks.TaskSpec.identity`) agree. The rules
    system merges its records the same way, so that a model that keeps every default gives
    exactly the rules' records."""
    kept: list[Any] = []
    by_identity: dict[tuple[Any, ...], list[int]] = {}  # every kept record, not the latest few
    for record in sorted(records, key=lambda r: (r.passage.start, r.passage.end)):
        places = by_identity.setdefault(_identity(record, identity), [])
        same = [i for i in places if _same_passage(record.passage, kept[i].passage)]
        if not same:
            places.append(len(kept))
            kept.append(record)
        elif _filled(record) > _filled(kept[same[0]]):
            # One chunk saw more of it (a speaker beyond the other chunk's edge): keep that.
            kept[same[0]] = record
    return kept


def _filled(record: Any) -> int:
    """How many of a record's fields hold something."""
    return sum(getattr(record, name) not in (None, "") for name in type(record).model_fields)


def _corrections_of(records: list[Any], corrected: list[Corrected]) -> list[Correction]:
    """The corrections of ``records``, in their order. A record merged away takes its own
    with it: the record kept for that passage is as the model answered it in its chunk."""
    by_record: dict[int, list[Correction]] = {}
    for record, correction in corrected:
        by_record.setdefault(id(record), []).append(correction)
    return [correction for record in records for correction in by_record.get(id(record), [])]


def _identity(record: Any, fields: Sequence[str]) -> tuple[Any, ...]:
    """What besides its passage makes a record itself: its type and ``fields``, case-blind."""
    return (type(record), *(_folded(getattr(record, name)) for name in fields))


def _folded(value: Any) -> Any:
    if isinstance(value, Span):
        value = value.text
    return "" if value is None else value.lower() if isinstance(value, str) else value


def _same_passage(a: Span, b: Span) -> bool:
    """Most of both spans is shared: one record found twice, not a record nested in another
    (a quotation within a quotation)."""
    overlap = min(a.end, b.end) - max(a.start, b.start)
    return overlap > 0 and overlap >= 0.5 * max(a.end - a.start, b.end - b.start)
