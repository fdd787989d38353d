"""Choice schemas: the model decides about candidates the code found, it does not copy.

For a small model, "find the quotation and copy it exactly" fails (it paraphrases, invents,
copies the instructions). Here code proposes candidates with exact offsets
(:mod:`llmextract.candidates`) and the model answers one decision per candidate, in order:
is this a quotation and which of the listed speakers said it; which of the listed PLOVER
types is this event, or none; which polarity does this stance have, or none. Options are
numbers into lists the code made, so a small model's mistakes stay among plausible answers.
The list has exactly one entry per candidate, so a grammar-constrained model cannot skip, add
or invent: every record is grounded by construction. Pure: no client, no I/O.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any, ClassVar, Literal, TypeVar, cast

from pydantic import Field, ValidationInfo, create_model, model_validator

from llmextract.candidates import (
    EventCandidate,
    Mention,
    QuoteCandidate,
    StanceCandidate,
    phrase_polarity,
)
from llmextract.drafts import Draft, DraftList, Grounder, Source
from llmextract.errors import PromptError
from llmextract.schemas import Event, Polarity, Quote, Span, Stance, Task
from llmextract.tasks import get_task

__all__ = [
    "CONFIDENCE_MARGINS",
    "TOKEN_LOGPROBS",
    "ChoiceList",
    "EventChoices",
    "QuoteChoices",
    "QuoteSpeakerChoices",
    "StanceChoices",
    "StancePolarityChoices",
    "base_choice_schema",
    "choice_schema",
    "confident_choice",
    "find_candidates",
    "option_scores",
]

# The validation-context key under which the model client puts the answer's tokens, each
# with its likeliest alternatives and their log-probabilities, when a list asks for them.
TOKEN_LOGPROBS = "llmextract.logprobs"  # noqa: S105 - a dictionary key, not a secret
_FINDER_LIMIT = 10_000  # candidates per passage: in effect, all of them


def find_candidates(task: Task, passage: str) -> tuple[Any, ...]:
    """What the code finds in ``passage`` for a choice prompt of ``task`` to offer the model
    (:mod:`llmextract.candidates` records, offsets into ``passage``), by the task's
    :attr:`~llmextract.tasks.TaskSpec.finder`."""
    finder = get_task(task).finder
    if finder is None:
        raise PromptError(f"{task} has copy prompts only: no code finds its candidates")
    return tuple(finder(passage, limit=_FINDER_LIMIT))


def _span(g: Grounder, start: int, end: int) -> Span:
    return Span(
        text=g.source.text[start:end], start=g.source.offset + start, end=g.source.offset + end
    )


def _mention(g: Grounder, mention: Mention | None) -> Span | None:
    return None if mention is None else _span(g, mention.start, mention.end)


class _Decision(Draft):
    @classmethod
    def default(cls, candidate: Any) -> dict[str, Any]:
        """The code's own decision about ``candidate`` (the rules system's)."""
        raise NotImplementedError

    def key(self) -> tuple[Any, ...]:
        return (id(self),)  # one decision per candidate: never a repeat of another

    @staticmethod
    def candidate(g: Grounder) -> Any:
        """The candidate this decision is about, or None (noted) if there is no such one."""
        if g.index < len(g.source.candidates):
            return g.source.candidates[g.index]
        only = f"there are only {len(g.source.candidates)} candidates"
        g.problems.append(f"{g.label}: {only}")
        g.failed.append(only)
        return None


def _substituted(g: Grounder, name: str, choice: int, first: str) -> None:
    """Note that option ``choice`` of ``name`` was not offered, so the first, ``first``, is
    used: a small model's mistake among plausible answers, the record is kept."""
    g.notes.append((name, f"{name} option {choice} was not offered; used option 1 ({first})"))


def _quote(g: Grounder, candidate: QuoteCandidate, choice: int) -> Quote:
    """The candidate as a quote of its ``choice``-th listed speaker (1-based)."""
    speaker = None
    if candidate.speakers:
        if choice > len(candidate.speakers):
            _substituted(g, "speaker", choice, candidate.speakers[0].text)
            choice = 1
        speaker = candidate.speakers[choice - 1]
    return Quote(
        content=_span(g, candidate.start, candidate.end),
        speaker=_mention(g, speaker),
        speaker_name=None if speaker is None else speaker.resolved,
        cue=None if candidate.cue is None else _span(g, *candidate.cue),
        kind=candidate.kind,
    )


class QuoteDecision(_Decision):
    quote: bool = Field(description="true if someone is quoted or reported as saying this")
    speaker: Literal[1, 2, 3] = Field(default=1, description="which listed speaker said it")

    @classmethod
    def default(cls, candidate: Any) -> dict[str, Any]:
        return {"quote": True, "speaker": 1}

    def declined(self) -> bool:
        return not self.quote

    def ground(self, g: Grounder) -> Quote | None:
        candidate: QuoteCandidate | None = self.candidate(g) if self.quote else None
        return None if candidate is None else _quote(g, candidate, self.speaker)


class QuoteSpeakerDecision(_Decision):
    """One number per candidate: who said it, or 0 for nobody (not a quotation)."""

    speaker: Literal[0, 1, 2, 3] = Field(
        description="the number of the listed speaker who said it, or 0 if nobody did"
    )

    @classmethod
    def default(cls, candidate: Any) -> dict[str, Any]:
        return {"speaker": 1}

    def declined(self) -> bool:
        return self.speaker == 0

    def ground(self, g: Grounder) -> Quote | None:
        candidate: QuoteCandidate | None = self.candidate(g) if self.speaker else None
        return None if candidate is None else _quote(g, candidate, self.speaker)


class EventDecision(_Decision):
    type: Literal[0, 1, 2, 3] = Field(
        description="the number of the listed type, or 0 if this is not an event"
    )

    @classmethod
    def default(cls, candidate: Any) -> dict[str, Any]:
        return {"type": 1}

    def declined(self) -> bool:
        return self.type == 0

    def ground(self, g: Grounder) -> Event | None:
        if self.type == 0:
            return None
        candidate: EventCandidate | None = self.candidate(g)
        if candidate is None:
            return None
        choice = self.type
        # An untyped candidate (an event PLOVER has no category for) offers its kind alone.
        options = [t.value for t in candidate.types] or [str(candidate.kind)]
        if choice > len(options):
            _substituted(g, "type", choice, options[0])
            choice = 1
        start, end = candidate.sentence
        return Event(
            type=candidate.types[choice - 1] if candidate.types else None,
            kind=None if candidate.types else candidate.kind,
            trigger=_span(g, candidate.start, candidate.end),
            actor=_mention(g, candidate.actor),
            recipient=_mention(g, candidate.recipient),
            location=None if candidate.location is None else _span(g, *candidate.location),
            time=None if candidate.time is None else _span(g, *candidate.time),
            summary=" ".join(g.source.text[start:end].split())[:200],
        )


class StanceDecision(_Decision):
    polarity: Literal["support", "oppose", "neutral", "none"] = Field(
        description="the holder's stance toward the target, or none"
    )

    @classmethod
    def default(cls, candidate: Any) -> dict[str, Any]:
        return {"polarity": _polarity_guess(candidate)}

    def declined(self) -> bool:
        return self.polarity == "none"

    def ground(self, g: Grounder) -> Stance | None:
        if self.polarity == "none":
            return None
        candidate: StanceCandidate | None = self.candidate(g)
        return None if candidate is None else _stance(g, candidate, self.polarity)


class StancePolarityDecision(_Decision):
    """The direction alone: the candidate is taken to be a stance (e.g. an annotated phrase)."""

    polarity: Polarity = Field(description="the holder's stance toward the target")

    @classmethod
    def default(cls, candidate: Any) -> dict[str, Any]:
        return {"polarity": _polarity_guess(candidate)}

    def declined(self) -> bool:
        return False

    def ground(self, g: Grounder) -> Stance | None:
        candidate: StanceCandidate | None = self.candidate(g)
        if candidate is None:
            return None
        polarity = self.polarity
        if candidate.options and polarity not in candidate.options:
            polarity = _polarity_guess(candidate)  # the code's guess in its place
            g.notes.append(
                ("polarity", f"polarity {self.polarity} was not offered; used {polarity}")
            )
        return _stance(g, candidate, polarity)


def _polarity_guess(candidate: StanceCandidate) -> Polarity:
    """The code's polarity for a stance: its verb's hint, else the phrase's lexicon
    polarity, within the labels it may take."""
    guess = candidate.polarity_hint or phrase_polarity(candidate.text)
    return guess if not candidate.options or guess in candidate.options else candidate.options[0]


def _stance(g: Grounder, candidate: StanceCandidate, polarity: Polarity) -> Stance:
    holder = candidate.holder
    return Stance(
        holder=_mention(g, holder),
        holder_name=None if holder is None else holder.resolved,
        target=candidate.target,
        polarity=polarity,
        evidence=_span(g, candidate.start, candidate.end),
    )


class ChoiceList(DraftList):
    """Base of the answers that decide about numbered candidates.

    A list whose ``option_field`` is a number asks the embedded model for its answer tokens'
    probabilities (``top_logprobs`` alternatives each) and keeps the code's default option
    (1: the candidate with its first speaker or type, as the rules system decides) unless
    the model prefers another option by at least the calibrated margin
    (:data:`CONFIDENCE_MARGINS`). A small model's guesses then never undo the code's.
    """

    list_field: ClassVar[str] = "decisions"
    option_field: ClassVar[str | None] = None
    top_logprobs: ClassVar[int] = 0
    logprobs_key: ClassVar[str] = TOKEN_LOGPROBS

    @classmethod
    def decided_by_code(cls) -> bool:
        """True when no answer of the embedded model can change the code's decisions: the
        task's margins are above 1, so asking it would only cost time."""
        return min(CONFIDENCE_MARGINS.get(cls.task, (0.0, 0.0))) > 1

    @classmethod
    def default_answer(cls, candidates: Sequence[Any]) -> dict[str, Any]:
        """The answer that takes the code's decision about each of ``candidates`` (the
        first speaker or type, the hinted polarity): the rules system's answer."""
        item = cast(type[_Decision], cls.item_model)
        return {cls.list_field: [item.default(candidate) for candidate in candidates]}

    @model_validator(mode="before")
    @classmethod
    def _confident_or_default(cls, data: Any, info: ValidationInfo) -> Any:
        context = info.context
        if cls.option_field is None or not isinstance(context, Mapping):
            return data
        tokens = context.get(TOKEN_LOGPROBS)
        source = next((v for v in context.values() if isinstance(v, Source)), None)
        decisions = data.get(cls.list_field) if isinstance(data, dict) else None
        if tokens is None or source is None or not isinstance(decisions, list):
            return data
        scores = option_scores(tokens, cls.option_field)
        if len(scores) != len(decisions):  # the answer is not readable: keep the defaults
            scores = [{} for _ in decisions]
        margins = CONFIDENCE_MARGINS[cls.task]
        chosen = []
        for candidate, score in zip(source.candidates, scores, strict=False):
            offered = range(_options(candidate) + 1)
            chosen.append({cls.option_field: confident_choice(score, offered, margins)})
        return {**data, cls.list_field: chosen}


class QuoteChoices(ChoiceList):
    """One decision per numbered candidate quotation, in order."""

    task: ClassVar[Task] = "quotes"
    item_model: ClassVar[type[Draft]] = QuoteDecision
    decisions: list[QuoteDecision]


class QuoteSpeakerChoices(ChoiceList):
    """One speaker number per numbered candidate quotation (0: not a quotation), in order."""

    task: ClassVar[Task] = "quotes"
    option_field: ClassVar[str | None] = "speaker"
    top_logprobs: ClassVar[int] = 10
    item_model: ClassVar[type[Draft]] = QuoteSpeakerDecision
    decisions: list[QuoteSpeakerDecision]


class EventChoices(ChoiceList):
    """One decision per numbered candidate event, in order."""

    task: ClassVar[Task] = "events"
    option_field: ClassVar[str | None] = "type"
    top_logprobs: ClassVar[int] = 10
    item_model: ClassVar[type[Draft]] = EventDecision
    decisions: list[EventDecision]


class StanceChoices(ChoiceList):
    """One decision per numbered candidate stance, in order."""

    task: ClassVar[Task] = "stances"
    item_model: ClassVar[type[Draft]] = StanceDecision
    decisions: list[StanceDecision]


class StancePolarityChoices(ChoiceList):
    """One polarity per numbered candidate stance, in order."""

    task: ClassVar[Task] = "stances"
    item_model: ClassVar[type[Draft]] = StancePolarityDecision
    decisions: list[StancePolarityDecision]


# Task -> (margin to decline a candidate, margin to pick an option other than the first): how
# much more probable than the default (option 1) the embedded model must find that option,
# its probabilities normalised over the offered options; a margin above 1 never lets it.
# Quotes, calibrated with quotes.v6 on the first 30 PolNeAR train articles
# (evals/scripts/calibrate_choices.py; evals/RESULTS.md, experiment 11): every margin that
# let it change speakers lowered speaker accuracy, and the best decline margin (0.3: one
# false candidate fewer on train) turned down a right one on dev, so neither is allowed.
# Events have no training split here. Stances: on BASIL's 464 annotated phrases (given, with
# support and oppose offered) the model's polarity scored macro-F1 0.537 (accuracy 0.698),
# the code's lexicon polarity 0.611 (0.767; accuracy +0.023 to +0.118): evals/RESULTS.md.
# All stay above 1 until a prompt or model earns more; the model is then not asked at all.
CONFIDENCE_MARGINS: dict[Task, tuple[float, float]] = {
    "quotes": (1.1, 1.1),
    "events": (1.1, 1.1),
    "stances": (1.1, 1.1),
}
_MAX_OPTION = 3  # the decision schemas offer at most three speakers or types


def _options(candidate: Any) -> int:
    """How many options besides 0 a candidate offers (1 when it lists none)."""
    listed = candidate.speakers if isinstance(candidate, QuoteCandidate) else candidate.types
    return min(max(len(listed), 1), _MAX_OPTION)


def option_scores(
    tokens: Sequence[tuple[str, Mapping[str, float]]], name: str
) -> list[dict[int, float]]:
    """For each ``"name": <digit>`` in the answer, in order, the log-probability of each
    digit the model could have written there (from the token's alternatives)."""
    text, starts = "", []
    for token, _ in tokens:
        starts.append(len(text))
        text += token
    scores = []
    for match in re.finditer(rf'"{re.escape(name)}"\s*:\s*(\d)', text):
        at = max(i for i, start in enumerate(starts) if start <= match.start(1))
        score: dict[int, float] = {}
        for alternative, logprob in tokens[at][1].items():
            digit = alternative.strip()
            if digit.isdigit() and len(digit) == 1:
                score[int(digit)] = max(logprob, score.get(int(digit), -math.inf))
        scores.append(score)
    return scores


def confident_choice(
    score: Mapping[int, float], offered: Sequence[int], margins: tuple[float, float]
) -> int:
    """Option 1 (the default) unless the model's probability of another offered option,
    normalised over ``offered``, exceeds option 1's by its margin (``margins``: for 0, for
    the others)."""
    seen = {option: score[option] for option in offered if option in score}
    if not seen:
        return 1
    top = max(seen.values())
    total = sum(math.exp(v - top) for v in seen.values())
    p = {option: math.exp(v - top) / total for option, v in seen.items()}
    best = max(p, key=lambda option: p[option])
    if best == 1:
        return 1
    margin = margins[0] if best == 0 else margins[1]
    return best if p[best] - p.get(1, 0.0) >= margin else 1


# (task, name) -> schema; the name is what a prompt's first line asks for ("" by default).
_BASES: dict[tuple[Task, str], type[ChoiceList]] = {
    ("quotes", ""): QuoteChoices,
    ("quotes", "speaker"): QuoteSpeakerChoices,
    ("events", ""): EventChoices,
    ("stances", ""): StanceChoices,
    ("stances", "polarity"): StancePolarityChoices,
}


def base_choice_schema(task: Task, decisions: str = "") -> type[ChoiceList]:
    """The task's decision schema named ``decisions`` (the default one for "")."""
    try:
        return _BASES[(task, decisions)]
    except KeyError:
        known = sorted(name for t, name in _BASES if t == task and name)
        raise PromptError(
            f"no {decisions!r} decisions for {task}: a choice prompt's first line names one "
            f"of {known} or none"
        ) from None


_Schema = TypeVar("_Schema", bound=DraftList)


@cache
def choice_schema(base: type[_Schema], candidates: int) -> type[_Schema]:
    """``base`` (see :func:`base_choice_schema`) with exactly ``candidates`` decisions."""
    items: Any = list[base.item_model]  # type: ignore[name-defined]
    sized: dict[str, Any] = {
        base.list_field: (items, Field(min_length=candidates, max_length=candidates))
    }
    return create_model(base.__name__, __base__=base, __doc__=base.__doc__, **sized)
