"""Concepts: event types and countries as ids that every language shares."""

from __future__ import annotations

from bot.text.concepts import concepts, lexicon
from bot.text.lexicon import languages, words


def test_one_earthquake_in_six_languages_names_the_same_concepts() -> None:
    texts = {
        "en": "A magnitude 6.8 earthquake struck eastern Turkey; 18 people were killed.",
        "de": "Ein Erdbeben der Stärke 6,8 hat die Osttürkei erschüttert: 18 Tote in der Türkei.",
        "fr": "Un séisme de magnitude 6,8 a frappé la Turquie : 18 morts.",
        "it": "Un terremoto di magnitudo 6,8 ha colpito la Turchia: 18 morti.",
        "es": "Un terremoto de magnitud 6,8 sacudió Turquía: 18 muertos.",
        "zh": "土耳其东部发生6.8级地震，造成18人死亡。",
        "ja": "トルコ東部でマグニチュード6.8の地震、18人が死亡した。",
        "ru": "Землетрясение магнитудой 6,8 произошло в Турции, погибли 18 человек.",
    }
    for language, text in texts.items():
        found = set(concepts(text, language))
        assert {"earthquake", "death"} <= found, (language, found)
        assert "@TR" in found or language == "ru", (language, found)  # Турции: an inflection


def test_stems_find_inflections_but_a_short_stem_must_be_the_word_itself() -> None:
    assert concepts("Floods and wildfires: rescuers evacuated villages.") == [
        "flood",
        "wildfire",
        "rescue",
        "evacuation",
    ]
    # Snowball makes "parl" of "parlamento" and of "parlato": only the word itself counts
    assert concepts("Il ministro ha parlato.", "it") == ["minister"]
    assert concepts("Il parlamento ha votato.", "it") == ["parliament"]


def test_phrases_are_matched_whole_and_before_their_words() -> None:
    assert concepts("The Federal Reserve raised interest rates.") == [
        "central-bank",
        "interest-rate",
    ]
    assert concepts("Argentina ganó la Copa del Mundo en penales.", "es") == [
        "@AR",
        "win",
        "world-cup",
        "penalty",
    ]


def test_languages_without_a_lexicon_still_name_countries() -> None:
    assert concepts("Aardbeving in Turkije.", "nl") == ["@TR"]
    assert concepts("Nothing known here.", "xx") == []


def test_every_language_uses_the_english_concept_ids() -> None:
    english = {line.partition(":")[0] for line in words("event-words", "en")}
    assert len(english) > 80
    for language in languages():
        ids = {line.partition(":")[0] for line in words("event-words", language)}
        assert ids <= english, (language, ids - english)
        assert all(term.strip() for term in lexicon(language))
