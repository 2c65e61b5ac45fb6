"""Figures as values: one term for every way a newsroom writes the same number."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.text.quantities import Quantity, quantities


def terms(text: str, language: str = "en") -> list[str]:
    return [q.term for q in quantities(text, language)]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Amazon agreed to pay $13.7bn", "en"),
        ("a $13.7 billion deal", "en"),
        ("13,7 milliards de dollars", "fr"),
        ("13,7 Milliarden Dollar", "de"),
        ("13.700 millones de dólares", "es"),
    ],
)
def test_one_amount_written_five_ways_is_one_term(text: str, language: str) -> None:
    assert "#1.37e+10" in terms(text, language)


def test_thousands_lakhs_and_shorthand_meet() -> None:
    assert terms("lost 200,000 subscribers") == terms("lost 200K subscribers")
    assert terms("a loss of 2 lakh paid subscribers") == ["#2e+05"]
    assert terms("it lost 9,70,000 subscribers") == ["#9.7e+05"]  # Indian grouping


def test_the_separator_means_what_the_language_says() -> None:
    assert terms("1.500 Menschen", "de") == ["#1500"]
    assert terms("58,5 %", "fr") == ["%58.5"]
    assert terms("2 500 000 habitants", "fr") == ["#2.5e+06"]
    assert terms("at 10 500 people", "en") == ["#10"]  # English does not group with spaces


@pytest.mark.parametrize(
    "text",
    [
        "raised rates by three-quarters of a percentage point",
        "a 0.75 percentage point increase",
        "by 75 basis points",
        "a 75-bp hike",
    ],
)
def test_rate_moves_in_points_and_basis_points_meet(text: str) -> None:
    assert "%0.75" in terms(text)


def test_scores_years_and_dates_are_kinds_of_their_own() -> None:
    assert terms("Argentina beat France 4-2 on penalties at 10:30") == ["4-2", "#10", "#30"]
    assert terms("the 2022 final") == ["y2022"]
    assert terms("on Wednesday, 15 June, hiked") == ["d0615"]
    assert terms("The Federal Reserve on July 27, 2022, raised") == ["d0727", "y2022"]
    assert terms("le 24 avril 2022", "fr") == ["d0424", "y2022"]
    assert terms("prices may rise in June") == ["d0600"]  # "may" the verb is no month
    assert terms("on June 5th") == ["d0605"] and terms("the 1st of May") == ["#1"]
    assert terms("le 1er mai", "fr") == ["d0501"]


def test_chinese_and_japanese_figures_stand_against_the_words() -> None:
    assert terms("四川泸定县9月5日发生6.8级地震，造成46人死亡", "zh") == ["d0905", "#6.8", "#46"]
    assert terms("9月5日12時52分、マグニチュード6.8の地震", "ja") == ["d0905", "#12", "#52", "#6.8"]
    assert terms("投资13.7亿元", "zh") == ["#1.37e+09"]
    assert terms("an A320 and the B-52", "en") == ["#52"]  # part of a name, but a dash splits


def test_matching_allows_for_rounding_but_not_for_a_different_rate() -> None:
    [share] = quantities("58.2%")
    [rounded] = quantities("58%")
    [rate], [other_rate] = quantities("4.5 percent"), quantities("4.25 percent")
    [nearly], [exact] = quantities("nearly one million"), quantities("970,000")
    assert share.matches(rounded) and nearly.matches(exact)
    assert not rate.matches(other_rate)
    assert not Quantity("score", 4, 2).matches(Quantity("score", 3, 3))
    assert Quantity("date", 600).matches(Quantity("date", 615))  # "in June" is "June 15"


PIECES = [
    "June",
    "5th",
    "1er",
    "mai",
    "15.",
    "Juni",
    "3rd",
    "May",
    "31st",
    "99th",
    "2022",
    "4-2",
    "$13.7bn",
    "75",
    "basis",
    "points",
    "%",
    ",",
    ".",
    "de",
    "lakh",
    "twenty",
]


@given(st.lists(st.sampled_from(PIECES), max_size=12), st.sampled_from(["en", "fr", "de", "zh"]))
def test_reading_figures_never_raises(words: list[str], language: str) -> None:
    for q in quantities(" ".join(words), language):  # every term is a kind and a value
        assert q.kind in ("number", "percent", "score", "year", "date") and q.term
