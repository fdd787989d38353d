"""Few-shot examples: drawn from gold by a seeded, documented strategy; part of the prompt id."""

from __future__ import annotations

import json

import pytest

from llmextract import ConfigError, PromptError, extract, load_prompt
from llmextract.evaluation.gold import load_gold
from llmextract.examples import load_examples, select_examples
from llmextract.testing import Reply, ScriptedServer
from tests.conftest import GOLD, settings_for


def test_examples_are_paragraphs_whose_answers_are_copied_from_them() -> None:
    documents = load_gold(GOLD)
    for task in ("quotes", "events", "stances"):
        examples = select_examples(documents, task, shots=2, seed=1)  # type: ignore[arg-type]
        assert len(examples) == 2
        assert len({e.text for e in examples}) == 2
        for example in examples:
            assert "\n\n" not in example.text and len(example.text) <= 600
            for item in example.answer[task]:
                for key in ("content", "speaker", "cue", "trigger", "evidence", "holder"):
                    if item.get(key):
                        assert item[key] in example.text
    assert select_examples(documents, "quotes", shots=2, seed=1) == select_examples(
        documents, "quotes", shots=2, seed=1
    )


def test_too_many_shots_and_missing_source_are_clear_errors() -> None:
    with pytest.raises(ConfigError, match="only 3 documents"):
        select_examples(load_gold(GOLD), "quotes", shots=4)
    with pytest.raises(ConfigError, match="--examples"):
        load_examples(None, ["quotes"], shots=2)
    assert load_examples(None, ["quotes"], shots=0) is None


def test_examples_change_the_prompt_id_and_precede_the_article() -> None:
    prompt = load_prompt("quotes", "v1")
    [example] = select_examples(load_gold(GOLD), "quotes", shots=1)
    shown = prompt.with_examples([example])
    assert shown.id != prompt.id and shown.id.startswith("quotes.v1@")
    messages = shown.render("The article text.")
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert (
        example.text in messages[1]["content"] and "The article text." not in messages[1]["content"]
    )
    assert json.loads(messages[2]["content"]) == example.answer
    assert "The article text." in messages[3]["content"]
    with pytest.raises(PromptError, match="copy prompts"):
        load_prompt("quotes", "v2").with_examples([example])


def test_extraction_with_examples_sends_them_and_records_the_id(
    scripted_server: ScriptedServer, sample_text: str
) -> None:
    examples = load_examples(GOLD, ["quotes"], shots=2, seed=0)
    scripted_server.enqueue(Reply(arguments={"quotes": [{"content": "not in the article at all"}]}))
    result = extract(
        sample_text, tasks=["quotes"], settings=settings_for(scripted_server.url), examples=examples
    )
    assert result.prompts["quotes"] != load_prompt("quotes", "v1").id
    first, second = (r.body for r in scripted_server.requests[:2])
    assert first is not None and second is not None
    assert [m["role"] for m in first["messages"]] == [
        "system",
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
    ]
    # The re-ask keeps the examples and adds only the failed round.
    assert len(second["messages"]) == len(first["messages"]) + 2
