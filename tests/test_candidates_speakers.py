"""The speaker rules of the quote candidates: the cue's grammatical subject as written."""

from __future__ import annotations

from llmextract.candidates import find_quotes


def _first_speaker(text: str, content: str) -> tuple[str, str, str | None]:
    quote = next(q for q in find_quotes(text) if q.text == content)
    speaker = quote.speakers[0]
    assert text[speaker.start : speaker.end] == speaker.text
    return speaker.text, speaker.kind, speaker.resolved


def test_a_common_noun_subject_is_the_speaker() -> None:
    text = "Brafman spoke first. Significantly, the judge said he could not require me to pay."
    assert _first_speaker(text, "he could not require me to pay") == (
        "the judge",
        "phrase",
        "the judge",
    )


def test_a_subject_with_a_number_and_no_determiner() -> None:
    text = "Clinton led the poll. Twenty-four percent said they were more likely to vote for him."
    assert _first_speaker(text, "they were more likely to vote for him")[0] == (
        "Twenty-four percent"
    )


def test_first_and_second_person_pronouns_are_speakers() -> None:
    text = "I told Megyn Kelly that the government treated me unfairly."
    assert _first_speaker(text, "that the government treated me unfairly") == ("I", "pronoun", None)


def test_a_relative_pronoun_is_the_speaker_resolved_to_its_antecedent() -> None:
    text = "Voters were angry. Trump met Charles Barkley, who said the party had lost its way."
    assert _first_speaker(text, "the party had lost its way") == (
        "who",
        "pronoun",
        "Charles Barkley",
    )


def test_a_title_phrase_ending_in_a_name_gives_the_name() -> None:
    text = "Former Arkansas Gov. Mike Huckabee also said the actions were illegal."
    assert _first_speaker(text, "the actions were illegal") == (
        "Mike Huckabee",
        "name",
        "Mike Huckabee",
    )


def test_an_age_and_a_relative_clause_between_subject_and_cue_are_skipped() -> None:
    text = (
        "Woodrow Benford, 58, who lives outside Minneapolis, says that Sanders is gaining on her."
    )
    assert _first_speaker(text, "that Sanders is gaining on her")[0] == "Woodrow Benford"


def test_a_control_verb_before_the_cue_is_skipped() -> None:
    text = "Pentagon officials declined to say whether the practice broke the rules."
    speaker = _first_speaker(text, "whether the practice broke the rules")
    assert speaker[0].endswith("officials")


def test_a_participle_after_a_comma_takes_the_subject_of_its_clause() -> None:
    text = "Later, Trump returned the compliment to Adelson, telling reporters that he was great."
    assert _first_speaker(text, "that he was great")[0] == "Trump"


def test_an_inverted_cue_before_a_common_noun_phrase() -> None:
    text = "\u201cIt is downright ludicrous,\u201d said a source involved in the talks."
    speaker = _first_speaker(text, "It is downright ludicrous")
    assert speaker[0].startswith("a source") and speaker[1] == "phrase"


def test_according_to_a_source_without_a_name_offers_the_source_phrase() -> None:
    text = "Clinton leads Trump by four points, according to a new poll."
    assert _first_speaker(text, "Clinton leads Trump by four points") == (
        "a new poll",
        "phrase",
        "a new poll",
    )


def test_a_participle_after_a_cue_takes_that_cue_s_subject() -> None:
    text = "\u201cShe cannot win,\u201d Jealous said, suggesting that a rival could."
    assert _first_speaker(text, "that a rival could")[0] == "Jealous"


def test_a_contracted_pronoun_is_the_pronoun_alone() -> None:
    text = "I\u2019ve said that the deal was a mistake."
    assert _first_speaker(text, "that the deal was a mistake") == ("I", "pronoun", None)


def test_a_that_clause_keeps_its_that() -> None:
    quotes = find_quotes("Cook told reporters that Carter had stopped the practice.")
    assert [q.text for q in quotes] == ["that Carter had stopped the practice"]
