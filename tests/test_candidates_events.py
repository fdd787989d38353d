"""Event candidates for events PLOVER has no category for (KAIROS kinds) and their frames."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

from llmextract.candidates import find_events
from llmextract.candidates.lexicons import KAIROS_FRAMES
from llmextract.evaluation.baselines import rule_extract
from llmextract.schemas import EventType

ROOT = Path(__file__).resolve().parents[1]


def _one(text: str, trigger: str):  # type: ignore[no-untyped-def]
    [event] = [e for e in find_events(text) if e.text == trigger]
    return event


def _text(mention: object) -> str | None:
    return None if mention is None else mention.text  # type: ignore[attr-defined]


def test_a_death_is_an_untyped_event_with_its_victim_and_place_and_no_time() -> None:
    text = "Two soldiers died in Kabul on Monday."
    died = _one(text, "died")
    assert (died.types, died.kind) == ((), "Life.Die")
    assert _text(died.recipient) == "Two soldiers" and died.actor is None
    assert died.location is not None and text[slice(*died.location)] == "Kabul"
    assert died.time is None  # KAIROS has no time role


def test_active_frame_gives_doer_and_undergoer() -> None:
    arrested = _one("Police arrested three men in Belfast on Friday.", "arrested")
    assert arrested.types == (EventType.COERCE,)
    assert arrested.kind == "Justice.ArrestJailDetain"
    assert _text(arrested.actor) == "Police"
    assert _text(arrested.recipient) == "three men"


def test_passive_frame_turns_the_subject_into_the_undergoer() -> None:
    killed = _one("The journalist was killed by a sniper.", "killed")
    assert _text(killed.recipient) == "The journalist"
    assert _text(killed.actor) == "a sniper"


def test_noun_trigger_takes_its_of_phrase() -> None:
    trial = _one("Reporters attended the trial of Ratko Mladic in The Hague.", "trial")
    assert (trial.types, trial.kind) == ((), "Justice.TrialHearing")
    assert _text(trial.recipient) == "Ratko Mladic"
    assert _text(trial.actor) is None  # "Reporters" is no prosecutor


def test_a_demonym_before_the_head_is_not_taken_for_the_victim() -> None:
    killed = _one("The blast killed Afghan soldiers near the base.", "killed")
    assert _text(killed.recipient) == "Afghan soldiers"


def test_rules_give_untyped_events_their_kind() -> None:
    [event] = rule_extract("A man died in Paris.", "events")
    assert event.type is None and event.kind == "Life.Die"
    assert event.recipient is not None and event.recipient.text == "A man"
    assert event.location is not None and event.location.text == "Paris"


def test_kairos_frames_are_derived_from_the_ontology_by_the_script() -> None:
    spec = importlib.util.spec_from_file_location(
        "derive_kairos", ROOT / "evals" / "scripts" / "derive_kairos.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["derive_kairos"] = module
    spec.loader.exec_module(module)
    ontology = {
        "Life.Die.Unspecified": {
            "template": "<arg1> died at <arg2> place from <arg4> medical issue, killed by "
            "<arg3> killer",
            "keywords": ["die", "kill", "death"],
            "roles": ["Victim", "Place", "Killer", "MedicalIssue"],
        },
        "Conflict.Attack.Unspecified": {
            "template": "<arg1> attacked <arg2> using <arg3> at <arg4> place",
            "keywords": ["attack", "shot", "war"],
            "roles": ["Attacker", "Target", "Instrument", "Place"],
        },
        "Justice.Sentence.Unspecified": {
            "template": "<arg1> court sentenced <arg2> to <arg3> punishment at <arg4> place",
            "keywords": ["sentence"],
            "roles": ["JudgeCourt", "Defendant", "Crime", "Place"],
        },
    }
    lines = module.derive(json.loads(json.dumps(ontology)))
    die, attack, sentence = (line.split("\t") for line in lines[2:])
    # "court" after <arg1> is no past form, so no verb: no truncated "cou" form.
    assert sentence[1].split("|") == ["sentence", "sentences", "sentenced", "sentencing"]
    assert die[0] == "Life.Die" and die[2:] == ["recipient", "-", "recipient", "yes"]
    assert {"died", "dying", "killed", "deaths"} <= set(die[1].split("|"))
    assert attack[2:] == ["actor", "actor", "recipient", "yes"]
    assert {"attacked", "shoot", "shot", "wars"} <= set(attack[1].split("|"))
    # The shipped file is what the script writes: every kind has forms and known slots.
    for kind, forms, slots, _ in KAIROS_FRAMES:
        assert forms and kind.count(".") >= 1
        assert set(slots) <= {None, "actor", "recipient"}


def _triggers(text: str) -> list[str]:
    return [e.text for e in find_events(text)]


def test_tried_to_is_the_control_verb_and_a_trial_is_still_one() -> None:
    assert _triggers("He tried to recruit children near his home.") == []
    assert "tried" in _triggers("He was tried in Boston last year.")


def test_suicide_before_a_noun_modifies_it() -> None:
    assert "suicide" not in _triggers("A suicide bomber riding a motorcycle hit the convoy.")
    assert "suicide" in _triggers("Police said the singer's death was a suicide.")


def test_back_is_an_event_only_with_an_object() -> None:
    assert _triggers("Maduro will not back down, the opposition fears.") == []
    assert _triggers("The council pushed back elections for governors.") == []
    backed = _one("Several parties back the plan.", "back")
    assert backed.types == (EventType.SUPPORT,)


def test_addressed_saying_is_a_broadcast_and_bare_said_is_not() -> None:
    told = _one("The minister told reporters that the talks had failed.", "told")
    assert (told.types, told.kind) == ((), "Contact.Contact.Broadcast")
    assert _text(told.actor) == "The minister"
    assert _text(told.recipient) == "reporters"
    assert "said" not in _triggers("The minister said the talks had failed.")


def test_jail_is_a_place_without_an_object_and_a_verb_with_one() -> None:
    assert _triggers("Hundreds of political prisoners are in jail.") == []
    jail = _one("The court may jail him for five years.", "jail")
    assert jail.kind == "Justice.ArrestJailDetain"


def test_the_tail_of_a_hyphenated_word_is_no_trigger() -> None:
    assert _triggers("The counter-terrorism strategy is under review.") == []
    assert "terrorism" in _triggers("The group has long used terrorism.")
