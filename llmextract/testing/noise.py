"""Noise profiles of the oracle server: seeded errors of the kinds real models make.

The oracle (:mod:`llmextract.testing.oracle`) answers a copy prompt with the gold records of
the passage it was shown; a :class:`NoiseProfile` then spoils that answer the way a real model
does, each error class by its own share:

``clean``
    Nothing changed: the ceiling of the pipeline with a perfect model.
``normalised``
    ``normalise=0.5``: half of the copied strings are changed in one of four ways models
    change what they copy: curly quotes made straight or straight ones curly, whitespace
    changed (a double space, a line break as a space), the final punctuation mark dropped, or
    the first letter's case flipped.
``boundary``
    ``boundary=0.5``: half of the passages (a quote's content, an event's trigger, a stance's
    evidence) are widened or narrowed by 1-3 words.
``hallucinate``
    ``invent=0.3, paraphrase=0.1``: 30% of answers hold an invented passage too (words not in
    the article), and 10% of records come with a paraphrased copy (a word dropped, two words
    swapped) besides the real one.
``speaker``
    ``speaker=0.5``: half of the speakers and holders are named differently from the article:
    the surname only, a title added (``Mr.``), or a pronoun; the full name the article gives is
    then in ``speaker_name`` / ``holder_name``, as the prompts ask.
``json``
    ``broken=0.2``: 20% of answers are unusable: invalid JSON, another shape, or (tools mode)
    no tool call.
``verbose``
    ``verbose=0.5``: half of the answers give every record a long ``reasoning`` field, so that
    most of them overrun the request's ``max_tokens`` and are cut off there.
``realistic``
    A mix: ``normalise=0.1, boundary=0.03, invent=0.05, paraphrase=0.02, speaker=0.1,
    broken=0.03, verbose=0.05``.

Every draw comes from the :class:`random.Random` the caller gives (the oracle seeds one per
request from ``--seed`` and the request), so a run is reproducible and a re-ask, whose request
differs, gets fresh draws.
"""

from __future__ import annotations

import dataclasses
import random
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["PROFILES", "NoiseProfile", "Slot", "noise_profile"]

JSONDict = dict[str, Any]


@dataclass(frozen=True)
class NoiseProfile:
    """How often each error class occurs (each a share between 0 and 1)."""

    name: str
    normalise: float = 0.0  # copied strings changed in quotes, whitespace, punctuation or case
    boundary: float = 0.0  # passages widened or narrowed by 1-3 words
    invent: float = 0.0  # answers holding an invented passage too
    paraphrase: float = 0.0  # records that come with a paraphrased copy too
    speaker: float = 0.0  # speakers/holders as surname, with a title, or as a pronoun
    broken: float = 0.0  # answers that are invalid JSON, another shape or no tool call
    verbose: float = 0.0  # answers that pad every record until they overrun max_tokens

    def describe(self) -> str:
        """``name (share=..., ...)``: what the server prints and reports."""
        shares = [
            f"{f.name}={getattr(self, f.name)}"
            for f in dataclasses.fields(self)
            if f.name != "name" and getattr(self, f.name)
        ]
        return f"{self.name} ({', '.join(shares) or 'no noise'})"


PROFILES: dict[str, NoiseProfile] = {
    profile.name: profile
    for profile in (
        NoiseProfile("clean"),
        NoiseProfile("normalised", normalise=0.5),
        NoiseProfile("boundary", boundary=0.5),
        NoiseProfile("hallucinate", invent=0.3, paraphrase=0.1),
        NoiseProfile("speaker", speaker=0.5),
        NoiseProfile("json", broken=0.2),
        NoiseProfile("verbose", verbose=0.5),
        NoiseProfile(
            "realistic",
            normalise=0.1,
            boundary=0.03,
            invent=0.05,
            paraphrase=0.02,
            speaker=0.1,
            broken=0.03,
            verbose=0.05,
        ),
    )
}


def noise_profile(name: str) -> NoiseProfile:
    """The profile called ``name``; a ValueError naming the profiles if there is none."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(
            f"unknown noise profile {name!r}: use one of {', '.join(PROFILES)}"
        ) from None


@dataclass
class Slot:
    """One answer item and where its gold record is, for the noise to work on.

    ``start``/``end`` are the passage's offsets in ``window`` (the text the model was shown);
    ``passage`` names the item's passage field, ``copied`` every field copied from the text,
    and ``names`` the (field, full-name field) pairs of who said or holds it.
    """

    item: JSONDict
    window: str
    start: int
    end: int
    passage: str
    copied: tuple[str, ...]
    names: tuple[tuple[str, str], ...]


_FINAL_PUNCTUATION = ".,;:!?"
_STRAIGHTEN = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})
_WORD = re.compile(r"\S+")
_PRONOUNS = ("he", "she", "they")
_TITLES = ("Mr.", "Ms.", "Dr.")
_INVENTED = (
    "The committee will publish its findings after the harvest festival in {n} weeks",
    "Officials confirmed that {n} new ferries would sail from the northern harbour",
    "We have never seen a season like this one, not in {n} years of fishing",
)


def apply(profile: NoiseProfile, slots: list[Slot], rng: random.Random) -> list[JSONDict]:
    """The answer items after the profile's item-level noise (everything but ``broken`` and
    ``verbose``, which spoil the answer as a whole: see :func:`pad` and the oracle)."""
    items: list[JSONDict] = []
    for slot in slots:
        item = dict(slot.item)
        if profile.boundary and rng.random() < profile.boundary:
            item[slot.passage] = _moved(slot, rng)
        if profile.speaker:
            for name, full in slot.names:
                if item.get(name) and rng.random() < profile.speaker:
                    item[full] = item.get(full) or item[name]
                    item[name] = _renamed(str(item[name]), rng)
        if profile.normalise:
            for name in slot.copied:
                value = item.get(name)
                if isinstance(value, str) and value and rng.random() < profile.normalise:
                    item[name] = _normalised(value, rng)
        items.append(item)
        if profile.paraphrase and rng.random() < profile.paraphrase:
            copy = dict(item)
            copy[slot.passage] = _paraphrased(str(item[slot.passage]), rng)
            items.append(copy)
    if slots and profile.invent and rng.random() < profile.invent:
        model = slots[rng.randrange(len(slots))]
        invented = dict(model.item)
        invented[model.passage] = rng.choice(_INVENTED).format(n=rng.randrange(11, 99))
        items.insert(rng.randrange(len(items) + 1), invented)
    return items


def pad(items: list[JSONDict], rng: random.Random) -> list[JSONDict]:
    """Every item with a long ``reasoning`` field (which the schemas ignore), as a verbose
    model explains each record."""
    reason = "This passage is relevant because it reports what was said and by whom. "
    return [{**item, "reasoning": reason * rng.randrange(4, 9)} for item in items]


def _normalised(value: str, rng: random.Random) -> str:
    way = rng.randrange(4)
    if way == 0:
        straight = value.translate(_STRAIGHTEN)
        if straight != value:
            return straight
        return value.replace('"', "\u201c", 1).replace('"', "\u201d", 1)
    if way == 1:
        if "\n" in value:
            return value.replace("\n", " ")
        return value.replace(" ", "  ", 1)
    if way == 2:
        return value[:-1] if value[-1] in _FINAL_PUNCTUATION and len(value) > 1 else value
    first = value[0]
    return (first.lower() if first.isupper() else first.upper()) + value[1:]


def _moved(slot: Slot, rng: random.Random) -> str:
    """The passage widened or narrowed by 1-3 words at one end, within the window."""
    text, start, end = slot.window, slot.start, slot.end
    words = [(m.start(), m.end()) for m in _WORD.finditer(text)]
    inside = [w for w in words if start <= w[0] and w[1] <= end]
    k = rng.randint(1, 3)
    at_end = rng.random() < 0.5
    if rng.random() < 0.5 and len(inside) > k:  # narrow
        start, end = (start, inside[-k - 1][1]) if at_end else (inside[k][0], end)
    elif at_end:  # widen at the end
        after = [w for w in words if w[0] >= end][:k]
        end = after[-1][1] if after else end
    else:
        before = [w for w in words if w[1] <= start][-k:]
        start = before[0][0] if before else start
    return text[start:end]


def _renamed(name: str, rng: random.Random) -> str:
    words = name.split()
    way = rng.randrange(3)
    if way == 0 and len(words) > 1 and words[-1][:1].isupper():
        return words[-1]  # the surname only
    if way == 1 and name[:1].isupper():
        return f"{rng.choice(_TITLES)} {words[-1]}"
    return rng.choice(_PRONOUNS)


def _paraphrased(value: str, rng: random.Random) -> str:
    words = value.split()
    if len(words) < 3:
        return value + " " + rng.choice(("again", "too", "as well"))
    i = rng.randrange(len(words) - 1)
    words[i], words[i + 1] = words[i + 1], words[i]
    del words[rng.randrange(len(words))]
    return " ".join(words)
