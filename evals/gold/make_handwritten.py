"""Builds evals/gold/handwritten.jsonl from hand annotations written as substrings.

Stance evidence is the whole sentence that shows the stance. The annotations are written as
the words they cover (with which occurrence), so no offset is
typed by hand; run from the repository root: python evals/gold/make_handwritten.py
"""

from functools import partial
from pathlib import Path

from llmextract.evaluation.gold import GoldDocument, write_gold


def span(text, needle, nth=0):
    start = -1
    for _ in range(nth + 1):
        start = text.index(needle, start + 1)
    return {"text": needle, "start": start, "end": start + len(needle)}


harbour = Path("samples/harbour-council.txt").read_text(encoding="utf-8")
h = partial(span, harbour)
doc1 = {
    "id": "harbour-council",
    "text": harbour,
    "tasks": ["quotes", "events", "stances"],
    "source": "handwritten",
    "quotes": [
        {
            "content": h("We cannot wait for the next flood to take the fish market,"),
            "speaker": h("Mayor Elena Ruiz"),
            "speaker_name": "Elena Ruiz",
            "cue": h("told"),
            "kind": "direct",
        },
        {
            "content": h("This wall buys us thirty years."),
            "speaker": h("Mayor Elena Ruiz"),
            "speaker_name": "Elena Ruiz",
            "cue": h("told"),
            "kind": "direct",
        },
        {
            "content": h(
                "the town should have asked the regional government to pay for most of the work"
            ),
            "speaker": h("Councillor Tom Baker"),
            "speaker_name": "Tom Baker",
            "cue": h("said", 0),
            "kind": "indirect",
        },
        {
            "content": h("fishing boats will keep using the north quay while the wall is built"),
            "speaker": h("the harbour master, Sam Ode"),
            "speaker_name": "Sam Ode",
            "cue": h("According to"),
            "kind": "indirect",
        },
        {
            "content": h("Nobody loses a day at sea,"),
            "speaker": h("Ode", 1),
            "speaker_name": "Sam Ode",
            "cue": h("said", 1),
            "kind": "direct",
        },
    ],
    "events": [
        {
            "type": "AGREE",
            "trigger": h("voted"),
            "actor": h("The town council"),
            "time": h("on Tuesday"),
            "summary": "The council approved a sea wall.",
        },
        {
            "type": "ACCUSE",
            "trigger": h("accused"),
            "actor": h("He"),
            "recipient": h("the mayor"),
            "summary": "Baker accused the mayor of rushing.",
        },
        {
            "type": "SUPPORT",
            "trigger": h("welcomed"),
            "actor": h("Priya Nair"),
            "summary": "Nair welcomed the vote.",
        },
        {
            "type": "AID",
            "trigger": h("promised to send engineers"),
            "actor": h("Priya Nair"),
            "location": h("Porthaven"),
            "time": h("next month"),
            "summary": "Nair promised engineers.",
        },
        {
            "type": "PROTEST",
            "trigger": h("protested"),
            "actor": h("Local residents"),
            "location": h("outside the town hall"),
            "time": h("on Monday"),
            "summary": "Residents protested.",
        },
    ],
    "stances": [
        {
            "holder": h("Councillor Tom Baker"),
            "holder_name": "Tom Baker",
            "target": "the sea wall plan",
            "polarity": "oppose",
            "evidence": h(
                "Councillor Tom Baker, who voted against the plan, said the town should have asked the regional government to pay for most of the work."
            ),
        },
        {
            "holder": h("Priya Nair"),
            "holder_name": "Priya Nair",
            "target": "the vote",
            "polarity": "support",
            "evidence": h(
                "The regional environment minister, Priya Nair, welcomed the vote and promised to send engineers to Porthaven next month."
            ),
        },
        {
            "holder": h("Mayor Elena Ruiz"),
            "holder_name": "Elena Ruiz",
            "target": "the sea wall",
            "polarity": "support",
            "evidence": h("This wall buys us thirty years."),
        },
    ],
}

grain = (
    "Farmers block roads over grain import deal\n\n"
    "LUBLIN — Hundreds of farmers blocked two motorways near Lublin on Friday to protest against a trade deal that lets grain from abroad enter the country without tariffs.\n\n"
    "\u201cThey are selling our harvest for a photo opportunity,\u201d said Marta Kowal, who leads the regional farmers\u2019 union. She demanded that the agriculture minister meet the protesters this week.\n\n"
    "Agriculture Minister Jan Wrona rejected the demand and accused the union of spreading false figures. According to Wrona, imports fell by a third last year.\n\n"
    "The European Commission said it would review the deal in June."
)
g = partial(span, grain)
doc2 = {
    "id": "grain-protest",
    "text": grain,
    "tasks": ["quotes", "events", "stances"],
    "source": "handwritten",
    "quotes": [
        {
            "content": g("They are selling our harvest for a photo opportunity,"),
            "speaker": g("Marta Kowal"),
            "speaker_name": "Marta Kowal",
            "cue": g("said", 0),
            "kind": "direct",
        },
        {
            "content": g("that the agriculture minister meet the protesters this week"),
            "speaker": g("She"),
            "speaker_name": "Marta Kowal",
            "cue": g("demanded"),
            "kind": "indirect",
        },
        {
            "content": g("imports fell by a third last year"),
            "speaker": g("Wrona", 1),
            "speaker_name": "Jan Wrona",
            "cue": g("According to"),
            "kind": "indirect",
        },
        {
            "content": g("it would review the deal in June"),
            "speaker": g("The European Commission"),
            "speaker_name": "The European Commission",
            "cue": g("said", 1),
            "kind": "indirect",
        },
    ],
    "events": [
        {
            "type": "PROTEST",
            "trigger": g("blocked"),
            "actor": g("Hundreds of farmers"),
            "location": g("two motorways near Lublin"),
            "time": g("on Friday"),
            "summary": "Farmers blocked motorways.",
        },
        {
            "type": "REQUEST",
            "trigger": g("demanded"),
            "actor": g("She"),
            "recipient": g("the agriculture minister"),
            "time": g("this week"),
            "summary": "Kowal demanded a meeting.",
        },
        {
            "type": "REJECT",
            "trigger": g("rejected"),
            "actor": g("Agriculture Minister Jan Wrona"),
            "recipient": g("the demand"),
            "summary": "Wrona rejected the demand.",
        },
        {
            "type": "ACCUSE",
            "trigger": g("accused"),
            "actor": g("Agriculture Minister Jan Wrona"),
            "recipient": g("the union"),
            "summary": "Wrona accused the union.",
        },
    ],
    "stances": [
        {
            "holder": g("Hundreds of farmers"),
            "target": "the grain trade deal",
            "polarity": "oppose",
            "evidence": g(
                "Hundreds of farmers blocked two motorways near Lublin on Friday to protest against a trade deal that lets grain from abroad enter the country without tariffs."
            ),
        },
        {
            "holder": g("Agriculture Minister Jan Wrona"),
            "holder_name": "Jan Wrona",
            "target": "the union",
            "polarity": "oppose",
            "evidence": g(
                "Agriculture Minister Jan Wrona rejected the demand and accused the union of spreading false figures."
            ),
        },
    ],
}

clinic = (
    "New clinic opens in Riverside after two-year delay\n\n"
    "The Riverside health clinic opened its doors on Monday, two years later than planned.\n\n"
    'Dr. Amara Osei, the clinic\'s director, said the building would serve 12,000 patients a year. "We finally have the space we need," she said.\n\n'
    'Health Secretary Paul Grant praised the staff for their patience, while opposition councillor Rita Lee criticised the cost overrun, calling it "a scandal".'
)
c = partial(span, clinic)
doc3 = {
    "id": "riverside-clinic",
    "text": clinic,
    "tasks": ["quotes", "events", "stances"],
    "source": "handwritten",
    "quotes": [
        {
            "content": c("the building would serve 12,000 patients a year"),
            "speaker": c("Dr. Amara Osei"),
            "speaker_name": "Amara Osei",
            "cue": c("said", 0),
            "kind": "indirect",
        },
        {
            "content": c("We finally have the space we need,"),
            "speaker": c("she"),
            "speaker_name": "Amara Osei",
            "cue": c("said", 1),
            "kind": "direct",
        },
        {
            "content": c("a scandal"),
            "speaker": c("Rita Lee"),
            "speaker_name": "Rita Lee",
            "cue": c("calling"),
            "kind": "direct",
        },
    ],
    "events": [
        {
            "type": "SUPPORT",
            "trigger": c("praised"),
            "actor": c("Health Secretary Paul Grant"),
            "recipient": c("the staff"),
            "summary": "Grant praised the staff.",
        },
        {
            "type": "ACCUSE",
            "trigger": c("criticised"),
            "actor": c("Rita Lee"),
            "recipient": c("the cost overrun"),
            "summary": "Lee criticised the cost overrun.",
        },
    ],
    "stances": [
        {
            "holder": c("Health Secretary Paul Grant"),
            "holder_name": "Paul Grant",
            "target": "the clinic staff",
            "polarity": "support",
            "evidence": c(
                'Health Secretary Paul Grant praised the staff for their patience, while opposition councillor Rita Lee criticised the cost overrun, calling it "a scandal".'
            ),
        },
        {
            "holder": c("Rita Lee"),
            "holder_name": "Rita Lee",
            "target": "the cost overrun",
            "polarity": "oppose",
            "evidence": c(
                'Health Secretary Paul Grant praised the staff for their patience, while opposition councillor Rita Lee criticised the cost overrun, calling it "a scandal".'
            ),
        },
    ],
}
docs = [GoldDocument.model_validate(d) for d in (doc1, doc2, doc3)]
print(write_gold(docs, "evals/gold/handwritten.jsonl"))
