"""Proper names: who and where, folded so that outlets' spellings meet."""

from __future__ import annotations

from bot.text.names import proper_names


def test_names_with_their_surnames_and_without_accents_or_possessives() -> None:
    text = "Lionel Messi scored twice as Argentina beat France. A hat-trick by Mbappé's side was not enough."
    names = proper_names(text)
    assert {"lionel messi", "messi", "argentina", "france", "mbappe"} <= set(names)


def test_a_capital_at_the_start_of_a_sentence_is_not_a_name_by_itself() -> None:
    assert proper_names("Capping off a career, Lionel Messi lifted the trophy.") == [
        "lionel messi",
        "lionel",
        "messi",
    ]
    # ... unless the text capitalises it inside a sentence too
    assert "argentina" in proper_names("Argentina won. Fans of Argentina danced.")


def test_days_months_and_title_case_headlines_are_not_names() -> None:
    names = proper_names(
        "Voters went to the polls on Sunday in March. Emmanuel Macron won.",
        title="Macron Wins Second Term In Stunning Vote",
    )
    assert names == ["emmanuel macron", "emmanuel", "macron"]


def test_elided_articles_are_not_part_of_a_name() -> None:
    names = proper_names("Secondo l’USGS la scossa ha colpito la Turchia.", "it")
    assert names == ["usgs", "turchia"]
