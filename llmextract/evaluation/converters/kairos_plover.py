"""An approximate mapping from KAIROS event types (WikiEvents) to PLOVER categories.

KAIROS types say *what happened* (someone died, a vehicle moved, a court convicted);
PLOVER categories say *what one political actor did to another*. The two only partly
overlap, so this table is a judgement call per type, not an equivalence. A type maps to
``None`` when PLOVER has no category for it or when the best guess would be wrong too often;
the converter keeps the KAIROS type as ``source_type`` either way, so a scorer can still
report those events (e.g. as unscored, or by source type).

Summary of the decisions (one comment per group in :data:`KAIROS_TO_PLOVER`):

====================================================  =========
KAIROS                                                PLOVER
====================================================  =========
Conflict.Attack.*                                     ASSAULT
Conflict.Demonstrate.* (with or without violence)     PROTEST
Contact.Contact.Meet / Correspondence                 CONSULT
Contact.Contact.Broadcast / Unspecified               None
Contact.RequestCommand.*                              REQUEST
Contact.ThreatenCoerce.*                              THREATEN
Justice.ArrestJailDetain                              COERCE
Justice.ChargeIndict / InvestigateCrime               ACCUSE
Justice.ReleaseParole                                 CONCEDE
Transaction.Donation                                  AID
everything else (Life.*, Movement.*, Disaster.*, ...)  None
====================================================  =========

A type that is not in the table (WikiEvents uses a few sub-subtypes missing from
``event_role_KAIROS.json``, e.g. ``Contact.RequestCommand.Broadcast``) falls back to its
``Type.Subtype.Unspecified`` entry, else to ``None``: see :func:`plover_type`.
"""

from __future__ import annotations

from typing import Final

from llmextract.schemas import EventType

__all__ = ["KAIROS_TO_PLOVER", "plover_type"]

_E = EventType

KAIROS_TO_PLOVER: Final[dict[str, EventType | None]] = {
    # Damage to things. In WikiEvents this is nearly always the material effect of an
    # attack that is annotated separately as Conflict.Attack; PLOVER's "destroy property"
    # (COERCE) is a deliberate act of repression, which these mostly are not.
    "ArtifactExistence.DamageDestroyDisableDismantle.Damage": None,
    "ArtifactExistence.DamageDestroyDisableDismantle.Destroy": None,
    "ArtifactExistence.DamageDestroyDisableDismantle.DisableDefuse": None,
    "ArtifactExistence.DamageDestroyDisableDismantle.Dismantle": None,
    "ArtifactExistence.DamageDestroyDisableDismantle.Unspecified": None,
    # Building or planting a device: preparation, not an interaction between actors.
    "ArtifactExistence.ManufactureAssemble.Unspecified": None,
    # Cognition (identify, observe, research, teach): no PLOVER counterpart.
    "Cognitive.IdentifyCategorize.Unspecified": None,
    "Cognitive.Inspection.SensoryObserve": None,
    "Cognitive.Research.Unspecified": None,
    "Cognitive.TeachingTrainingLearning.Unspecified": None,
    # Attacks (bombings, shootings, assassinations, battles) are PLOVER's ASSAULT.
    "Conflict.Attack.DetonateExplode": _E.ASSAULT,
    "Conflict.Attack.Unspecified": _E.ASSAULT,
    # Defeat is an outcome, not an action; PLOVER codes the fighting, not who won.
    "Conflict.Defeat.Unspecified": None,
    # Demonstrations are PROTEST; PLOVER's PROTEST also covers violent protest and riots.
    "Conflict.Demonstrate.DemonstrateWithViolence": _E.PROTEST,
    "Conflict.Demonstrate.Unspecified": _E.PROTEST,
    # One-way communication (reported, said, issued a statement): PLOVER has no "make a
    # public statement" category (CAMEO 01 was dropped), so None rather than CONSULT.
    "Contact.Contact.Broadcast": None,
    # Two parties in contact, face to face or remotely: CONSULT.
    "Contact.Contact.Correspondence": _E.CONSULT,
    "Contact.Contact.Meet": _E.CONSULT,
    # "Unspecified" contact is mostly speech verbs in WikiEvents (said, called, declared),
    # i.e. statements rather than consultations: None, like Broadcast.
    "Contact.Contact.Unspecified": None,
    # Lying has no PLOVER category.
    "Contact.Prevarication.Unspecified": None,
    # Requests, orders, demands, appeals: REQUEST (whatever the channel).
    "Contact.RequestCommand.Broadcast": _E.REQUEST,
    "Contact.RequestCommand.Meet": _E.REQUEST,
    "Contact.RequestCommand.Unspecified": _E.REQUEST,
    # Threats, warnings, ultimatums: THREATEN (whatever the channel).
    "Contact.ThreatenCoerce.Broadcast": _E.THREATEN,
    "Contact.ThreatenCoerce.Meet": _E.THREATEN,
    "Contact.ThreatenCoerce.Unspecified": _E.THREATEN,
    # Impeding (curbed, resisted, repelled, suppressed) mixes repression (COERCE),
    # military defence (ASSAULT) and obstruction (PROTEST): too mixed to map.
    "Control.ImpedeInterfereWith.Unspecified": None,
    # Disasters, crashes and outbreaks have no agent.
    "Disaster.Crash.Unspecified": None,
    "Disaster.DiseaseOutbreak.Unspecified": None,
    "Disaster.FireExplosion.Unspecified": None,
    # "Crime" covers fraud, treason, homicide, terrorism...: no single PLOVER category.
    "GenericCrime.GenericCrime.GenericCrime": None,
    # Arrest, jail, detention: COERCE (PLOVER's "arrest" mode).
    "Justice.ArrestJailDetain.Unspecified": _E.COERCE,
    # Charging and investigating someone: ACCUSE (accusations of crime, legal action and
    # investigation fall under PLOVER's ACCUSE).
    "Justice.ChargeIndict.Unspecified": _E.ACCUSE,
    "Justice.InvestigateCrime.Unspecified": _E.ACCUSE,
    # Court procedure and verdicts (trial, conviction, sentence, acquittal) have no PLOVER
    # category; mapping sentences to COERCE would be a stretch.
    "Justice.Acquit.Unspecified": None,
    "Justice.Convict.Unspecified": None,
    "Justice.Sentence.Unspecified": None,
    "Justice.TrialHearing.Unspecified": None,
    # Releasing prisoners: CONCEDE (PLOVER's "release persons" mode).
    "Justice.ReleaseParole.Unspecified": _E.CONCEDE,
    # Deaths and injuries are the effects of attacks annotated separately (mapping "killed"
    # to ASSAULT would count the same attack twice); illness and consumption have no agent.
    "Life.Consume.Unspecified": None,
    "Life.Die.Unspecified": None,
    "Life.Illness.Unspecified": None,
    "Life.Infect.Unspecified": None,
    "Life.Injure.Unspecified": None,
    # Medical care: no PLOVER category (humanitarian AID needs a giver and a recipient
    # country or group, which these rarely have).
    "Medical.Diagnosis.Unspecified": None,
    "Medical.Intervention.Unspecified": None,
    "Medical.Vaccinate.Unspecified": None,
    # Movement of people or goods: not an interaction (troop deployment would be MOBILIZE,
    # but WikiEvents' transports are mostly attackers driving or walking somewhere).
    "Movement.Transportation.Evacuation": None,
    "Movement.Transportation.IllegalTransportation": None,
    "Movement.Transportation.PreventPassage": None,
    "Movement.Transportation.Unspecified": None,
    # Hiring and firing: no PLOVER category.
    "Personnel.EndPosition.Unspecified": None,
    "Personnel.StartPosition.Unspecified": None,
    # A donation is giving something for someone's benefit: AID. Buying and selling is
    # commerce, not PLOVER cooperation.
    "Transaction.Donation.Unspecified": _E.AID,
    "Transaction.ExchangeBuySell.Unspecified": None,
}


def plover_type(kairos_type: str) -> EventType | None:
    """The PLOVER category of a KAIROS type, or None when there is none.

    A type missing from the table falls back to ``Type.Subtype.Unspecified`` (the three
    dotted parts of KAIROS are type, subtype, sub-subtype), then to None.
    """
    if kairos_type in KAIROS_TO_PLOVER:
        return KAIROS_TO_PLOVER[kairos_type]
    parts = kairos_type.split(".")
    if len(parts) == 3:
        return KAIROS_TO_PLOVER.get(f"{parts[0]}.{parts[1]}.Unspecified")
    return None
