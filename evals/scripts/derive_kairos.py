"""Derive the KAIROS event triggers and argument frames (``llmextract/candidates/kairos.tsv``).

Reads the KAIROS ontology file of WikiEvents (``event_role_KAIROS.json``: per event type a
list of keywords, a template sentence and its roles) and writes one line per type:

* ``kind``: the KAIROS type without a trailing ``.Unspecified`` (``Life.Die``);
* ``forms``: the type's keywords and its template's verb (``<arg1> died ...``: die; only a
  past form is a verb: "<arg1> person", "<arg1> court" give none), each
  with its inflections (regular English morphology plus the irregular forms below); a
  form claimed by two types goes to the first in ontology order. Keywords that are mostly
  something else in news text (``state``, ``head``, ``order``, ``fire``, ``March``...) are
  left out, by the list ``AMBIGUOUS`` written before any measurement;
* the argument slots of the trigger's frame, read from the template: ``subject`` (the
  template's ``<arg1>``: who stands before the trigger used without an object, "X died"),
  ``agent`` (who does it to someone: ``<arg1>``, or the ``by <argN>`` role when the template
  has one, "killed by <arg3> killer"), ``patient`` (the role right after the verb, "attacked
  <arg2>"; ``<arg1>`` when there is a ``by`` role) and ``location`` (``yes`` when the type
  has a ``Place`` role). A role becomes a slot (actor/recipient) by the same table the
  WikiEvents gold converter uses (:data:`ROLE_SLOTS`), ``-`` when it fills none: the code
  then gives no argument there. KAIROS has no time role, so no frame has a time slot.

Nothing is read from the annotated documents. Run from the repository root:

    python evals/scripts/derive_kairos.py /path/to/wikievents/event_role_KAIROS.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
from pathlib import Path

from llmextract.evaluation.converters.wikievents import ROLE_SLOTS

OUTPUT = Path(__file__).resolve().parents[2] / "llmextract" / "candidates" / "kairos.tsv"


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Keywords that news text mostly uses in another sense: a noun (the state, the head, an
# order, a letter, a school), a month, or a sense KAIROS annotates under another type.
AMBIGUOUS = _words(
    """state head former free fire order move stop block school classes lessons train
    search spread lie call letter mail trade rent win march strike probe drink eat
    consume identification medicine relief charity treat learn teach build identify
    recognize discover observe suspect escape contact start"""
)
IRREGULAR = {
    "die": ("died", "dying", "dies"),
    "lie": ("lied", "lying", "lies"),
    "shoot": ("shot", "shooting", "shoots"),
    "meet": ("met", "meeting", "meets"),
    "buy": ("bought", "buying", "buys"),
    "sell": ("sold", "selling", "sells"),
    "teach": ("taught", "teaching", "teaches"),
    "hurt": ("hurt", "hurting", "hurts"),
    "broadcast": ("broadcast", "broadcasting", "broadcasts"),
    "build": ("built", "building", "builds"),
    "win": ("won", "winning", "wins"),
    "spread": ("spread", "spreading", "spreads"),
    "flee": ("fled", "fleeing", "flees"),
    "try": ("tried", "trying", "tries"),
    "commit": ("committed", "committing", "commits"),
}
# Words that are nouns only: they get a plural and no verb forms.
_NOUN = re.compile(r"(?:tion|sion|ment|ance|ity|sis|ness|ism|ery|ure|ing|ory|ry|th|ic)$")
NOUNS = _words(
    """death crime felony offense suicide theft accident outbreak victory arson war summit
    terrorism correspondence trial"""
)
_VOWEL = "aeiou"


def inflections(word: str) -> list[str]:
    """The word with its inflections: a noun's plural; a verb's -s, -ed and -ing forms."""
    word = next((base for base, forms in IRREGULAR.items() if word in forms[:1]), word)
    if word in IRREGULAR:
        past, ing, third = IRREGULAR[word]
        return [word, third, past, ing]
    plural = word + ("es" if word.endswith(("s", "sh", "ch", "x")) else "s")
    if word.endswith("y") and word[-2] not in _VOWEL:
        plural = word[:-1] + "ies"
    if word.endswith("sis"):
        plural = word[:-2] + "es"
    if _NOUN.search(word) or word in NOUNS:
        return [word, plural]
    if word.endswith("e"):
        past, ing = word + "d", word[:-1] + "ing"
    elif word.endswith("y") and word[-2] not in _VOWEL:
        past, ing = word[:-1] + "ied", word + "ing"
    elif (
        3 <= len(word) <= 4
        and word[-1] not in _VOWEL + "wxy"
        and word[-2] in _VOWEL
        and word[-3] not in _VOWEL
    ):
        past, ing = word + word[-1] + "ed", word + word[-1] + "ing"
    else:
        past, ing = word + "ed", word + "ing"
    return [word, plural, past, ing]


def _base(past: str) -> str:
    """The verb of a template's past form ("damaged": damage, "committed": commit)."""
    irregular = [b for b, forms in IRREGULAR.items() if past == forms[0]]
    if irregular:
        return irregular[0]
    stem = past[:-2]
    if past.endswith("ied"):
        return past[:-3] + "y"
    if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in "ls":
        return stem[:-1]
    if stem.endswith(_SILENT_E) and stem[-3] not in _VOWEL:
        return stem + "e"
    return stem


# Stem endings whose verb ends in a silent e ("detonat-ed", "observ-ed", "disabl-ed").
_SILENT_E = (
    "at",
    "it",
    "ut",
    "ur",
    "us",
    "iv",
    "rv",
    "ov",
    "ag",
    "bl",
    "tl",
    "dl",
    "um",
    "ed",
    "er",
)


def _slot(role: str | None) -> str:
    if role is None:
        return "-"
    return next((slot for slot, roles in ROLE_SLOTS.items() if role in roles), "-")


def frame(template: str, roles: list[str]) -> tuple[str | None, str, str | None, str | None]:
    """(template verb, subject role, agent role, patient role) of a KAIROS template."""
    words = template.replace(",", " ").split()
    role = {f"<arg{n}>": name for n, name in enumerate(roles, 1)}
    subject = role[words[0]]
    rest = words[1:]
    # Templates put the event's verb in the past tense ("<arg1> died"); a word after
    # ``<arg1>`` that is no past form ("person", "court", "has", "illegally", "gave" of a
    # sense too wide to list) names no verb of the event.
    past = rest[0].endswith("ed") or any(rest[0] == forms[0] for forms in IRREGULAR.values())
    verb = rest[0] if past and rest[0] != "was" else None
    by = next((role[w] for p, w in itertools.pairwise(rest) if p == "by"), None)
    patient = None
    for previous, word in itertools.pairwise(rest):
        if word in role:
            if previous not in {"using", "in", "at", "from", "about", "for", "of", "as", "via"}:
                patient = role[word]
            break
    if by is not None:
        return verb, subject, by, subject
    return verb, subject, subject, patient


def derive(ontology: dict[str, dict[str, object]]) -> list[str]:
    """The lines of the output file (a header comment, then one line per type)."""
    lines = [
        "# Written by evals/scripts/derive_kairos.py from the KAIROS ontology: do not edit.",
        "# kind\tforms\tsubject\tagent\tpatient\tlocation",
    ]
    claimed: set[str] = set()
    for name, entry in ontology.items():
        roles = [str(r) for r in entry["roles"]]  # type: ignore[attr-defined]
        verb, subject, agent, patient = frame(str(entry["template"]), roles)
        words = [str(k) for k in entry["keywords"]]  # type: ignore[attr-defined]
        if verb is not None:
            words.append(_base(verb))
        forms: list[str] = []
        for word in words:
            # Skip a truncated keyword ("interfer") of the template's verb ("interfere").
            truncated = verb is not None and _base(verb).startswith(word) and word != _base(verb)
            if word.lower() in AMBIGUOUS or word.lower() in claimed or truncated:
                continue
            for form in inflections(word.lower()):
                if form not in claimed:
                    claimed.add(form)
                    forms.append(form)
        if not forms:
            continue
        kind = name.removesuffix(".Unspecified")
        location = "yes" if "Place" in roles else "no"
        lines.append(
            "\t".join(
                (kind, "|".join(forms), _slot(subject), _slot(agent), _slot(patient), location)
            )
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ontology", type=Path, help="event_role_KAIROS.json of WikiEvents")
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    lines = derive(json.loads(args.ontology.read_text(encoding="utf-8")))
    args.output.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines) - 2} event types -> {args.output}")


if __name__ == "__main__":
    main()
