"""Numbers as values, whatever way a text writes them.

Two reports of one event print the same figure differently: "$13.7bn" and "$13.7 billion",
"200,000", "200K" and "2 lakh", "9,70,000" (Indian grouping), "58,5 %" (a decimal comma),
"three-quarters of a percentage point" and "0.75 percentage point", "44 mil millones".
Story grouping compares the values, so each becomes one canonical term: a number, a
percentage, a score ("4-2") or a year, each kept apart because "2022" the year, "22%" and
a 2-2 draw are different facts.

Which separator is decimal depends on the language ("1.500" is fifteen hundred in German,
one and a half in English); a group of exactly three digits after the separator is read as
thousands where the language writes thousands that way.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

from bot.text.words import base

Kind = Literal["number", "percent", "score", "year", "date"]

# Languages that write a decimal comma ("58,5 %") and group thousands with a point or space.
DECIMAL_COMMA = frozenset(
    {"fr", "de", "es", "it", "pt", "nl", "pl", "cs", "sk", "ru", "uk", "tr", "da", "sv", "no"}
    | {"nb", "fi", "id", "ro", "hu", "el", "bg", "hr", "sl", "sr", "lt", "lv", "et", "ca", "gl"}
    | {"eu"}
)
_SCALES = {
    # English and the short forms newsrooms use
    "thousand": 1e3,
    "k": 1e3,
    "million": 1e6,
    "millions": 1e6,
    "mn": 1e6,
    "mln": 1e6,
    "m": 1e6,
    "billion": 1e9,
    "billions": 1e9,
    "bn": 1e9,
    "b": 1e9,
    "trillion": 1e12,
    "tn": 1e12,
    # South Asian English
    "lakh": 1e5,
    "lakhs": 1e5,
    "crore": 1e7,
    "crores": 1e7,
    # French, German, Italian, Spanish, Portuguese, Dutch
    "milliard": 1e9,
    "milliards": 1e9,
    "milliarde": 1e9,
    "milliarden": 1e9,
    "mrd": 1e9,
    "millionen": 1e6,
    "mio": 1e6,
    "miliardo": 1e9,
    "miliardi": 1e9,
    "milione": 1e6,
    "milioni": 1e6,
    "millón": 1e6,
    "millones": 1e6,
    "mil millones": 1e9,
    "bilhão": 1e9,
    "bilhões": 1e9,
    "milhão": 1e6,
    "milhões": 1e6,
    "miljoen": 1e6,
    "miljard": 1e9,
    "mil": 1e3,
    "mille": 1e3,
    "tausend": 1e3,
    # Chinese and Japanese
    "万": 1e4,
    "萬": 1e4,
    "亿": 1e8,
    "億": 1e8,
}
_WORD_NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "hundred": 100,
}
_FRACTIONS = {"half": 0.5, "a quarter": 0.25, "quarter": 0.25, "three-quarters": 0.75}
_SCALE = "|".join(sorted((re.escape(s) for s in _SCALES), key=len, reverse=True))
_PERCENT = (
    r"%|percentage points?\b|percent\b|per cent\b|pour cent\b|por ciento\b|per cento\b"
    r"|prozent\b|procent\b|por cento\b|個百分點|个百分点|％"
)
# Chinese and Japanese write figures against the words ("发生6.8级地震"): after one of their
# characters a figure starts; after a letter of a spaced script it is part of a word ("A320").
_CJK_BEFORE = r"(?<=[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af])"
_NUMBER = re.compile(
    rf"(?<![\d.,_])(?:{_CJK_BEFORE}|(?<![^\W\d_]))"
    r"(?P<int>\d{1,2}(?:,\d{2})+,\d{3}|\d{1,3}(?:[,.\u00a0\u202f ]\d{3})+|\d+)"
    r"(?:(?P<sep>[.,])(?P<frac>\d+))?"
    rf"(?:\s*(?P<pct>{_PERCENT}))?"
    rf"(?:[\s-]*(?P<scale>{_SCALE})(?:(?<=[万萬亿億])|(?![^\W\d_])))?",
    re.IGNORECASE,
)
_SCORE = re.compile(r"(?<![\w.,:])(\d{1,2})(?:\s?[-–]\s?(\d{1,2})|:(\d))(?![\w.,:%])")  # not 10:30
_WORDED = re.compile(
    rf"\b(?P<n>{'|'.join(_WORD_NUMBERS)})[\s-]+(?P<scale>{_SCALE})\b"
    r"|\b(?P<f>three-quarters|half|a quarter)(?: of)? an? (?:percentage )?point"
    r"|\ba (?P<f2>half|quarter)[ -](?:percentage[ -])?point",
    re.IGNORECASE,
)
_BASIS_POINTS = re.compile(
    r"[\s-]*(?:basis points?|bps?|pb|points de base|puntos básicos|punti base|basispunkte)\b", re.I
)
_UNSPACED = re.compile(_NUMBER.pattern.replace(r"\u202f ]", r"\u202f]"), re.IGNORECASE)
_YEAR = re.compile(r"^(?:1[89]\d\d|20\d\d)$")
_GROUPS = re.compile(r"[,.\u00a0\u202f ]")


@dataclass(frozen=True)
class Quantity:
    kind: Kind
    value: float
    second: float = 0.0  # the other side of a score

    @property
    def term(self) -> str:
        """A canonical spelling: one term for every way of writing the same value."""
        if self.kind == "score":
            return f"{self.value:g}-{self.second:g}"
        if self.kind == "date":  # month * 100 + day; day 0 when only the month is named
            return f"d{int(self.value):04d}"
        prefix = {"number": "#", "percent": "%", "year": "y"}[self.kind]
        return f"{prefix}{self.value:.4g}"

    def matches(self, other: Quantity) -> bool:
        """The same figure, allowing for rounding ("58%" is "58.2%", "nearly 1 million" is
        "970,000") and for a month named without its day ("in June" is "June 15")."""
        if self.kind != other.kind:
            return False
        if self.kind == "score":
            return (self.value, self.second) == (other.value, other.second)
        if self.kind == "date":
            same_month = int(self.value) // 100 == int(other.value) // 100
            month_only = self.value % 100 == 0 or other.value % 100 == 0
            return self.value == other.value or (same_month and month_only)
        a, b = self.value, other.value
        if a == b:
            return True
        if max(a, b) >= 1000 and abs(a - b) <= 0.05 * max(a, b):
            return True
        return (a.is_integer() or b.is_integer()) and math.floor(a + 0.5) == math.floor(b + 0.5)


def quantities(text: str, language: str | None = "en") -> list[Quantity]:
    """Every figure in `text`: dates, scores, then numbers, percentages and years."""
    code = base(language)
    found: list[Quantity] = []
    in_scores: set[int] = set()  # and days of dates
    for date, (start, end) in _dates(text, code) + _cjk_dates(text):
        found.append(date)
        in_scores.update(range(start, end))
    for score in _SCORE.finditer(text):
        found.append(Quantity("score", float(score[1]), float(score[2] or score[3])))
        in_scores.update(range(*score.span()))
    for match in _NUMBER.finditer(text):
        if match.start() in in_scores:
            continue
        if " " in match["int"] and code not in DECIMAL_COMMA:
            match = _UNSPACED.match(text, match.start()) or match  # "at 10 500 people"
        number = _value(match["int"], match["sep"], match["frac"], code)
        if match["scale"]:
            number *= _SCALES.get(match["scale"].lower(), _SCALES.get(match["scale"], 1.0))
        elif _BASIS_POINTS.match(text, match.end()):
            found.append(Quantity("percent", number / 100))  # 75 basis points: 0.75 points
            continue
        elif match["pct"]:
            found.append(Quantity("percent", number))
            continue
        elif _YEAR.match(match["int"]) and not match["sep"]:
            found.append(Quantity("year", number))
            continue
        found.append(Quantity("number", number))
    for match in _WORDED.finditer(text):
        if match["f"] or match["f2"]:
            found.append(Quantity("percent", _FRACTIONS[(match["f"] or match["f2"]).lower()]))
        else:
            n = _WORD_NUMBERS[match["n"].lower()] * _SCALES[match["scale"].lower()]
            found.append(Quantity("number", float(n)))
    return found


def _dates(text: str, language: str) -> list[tuple[Quantity, tuple[int, int]]]:
    """ "June 15", "15 June", "15. Juni", "le 24 avril", "(September 8)", or a month alone."""
    months, pattern = _month_pattern(language)
    found = []
    for match in pattern.finditer(text):
        month = months[fold_month(match["month"])]
        day = int(match["day"] or match["day2"] or 0)
        if month == 5 and not day and fold_month(match["month"]) == "may":
            continue  # "prices may rise"
        if day > 31:
            day = 0
        span = (
            match.span("day") if match["day"] else match.span("day2") if match["day2"] else (0, 0)
        )
        found.append((Quantity("date", float(month * 100 + day)), span))
    return found


_CJK_DATE = re.compile(r"(?<!\d)(1[0-2]|0?[1-9])\s?月\s?(?:([12]\d|3[01]|0?[1-9])\s?[日号號])?")


def _cjk_dates(text: str) -> list[tuple[Quantity, tuple[int, int]]]:
    """ "9月5日", "9月5号", "9月": month and day as Chinese and Japanese write them."""
    return [
        (Quantity("date", float(int(m[1]) * 100 + int(m[2] or 0))), m.span())
        for m in _CJK_DATE.finditer(text)
    ]


def fold_month(name: str) -> str:
    return name.casefold().rstrip(".")


@cache
def _month_pattern(language: str) -> tuple[dict[str, int], re.Pattern[str]]:
    """Month names of the language (and English) from the CLDR data Babel carries."""
    from babel import Locale, UnknownLocaleError

    months: dict[str, int] = {}
    for code in (language, "en"):
        try:
            locale = Locale.parse(code)
        except (UnknownLocaleError, ValueError):
            continue
        for width in ("wide", "abbreviated"):
            for number, name in locale.months["format"][width].items():
                key = fold_month(name)
                if len(key) >= 3 and key not in ("may", "mar"):  # a verb, a word
                    months.setdefault(key, number)
    months["may"] = 5  # only with a day: "May 5", "5 May"
    names = "|".join(sorted((re.escape(m) for m in months), key=len, reverse=True))
    ordinal = r"(?:st|nd|rd|th|er|º)?"  # "June 5th", "1er mai": the day is the digits
    pattern = re.compile(
        rf"(?:\b(?P<day>[0-3]?\d){ordinal}\.?\s+(?:de\s+)?)?\b(?P<month>{names})\.?"
        rf"(?![^\W\d_])(?:\s+(?P<day2>[0-3]?\d){ordinal}\b(?!\s*(?:%|[.,]\d)))?",
        re.IGNORECASE,
    )
    return months, pattern


def _value(whole: str, sep: str | None, frac: str | None, language: str) -> float:
    decimal_comma = language in DECIMAL_COMMA
    groups = _GROUPS.findall(whole)
    if groups:
        mark = groups[0]
        decimal = "," if decimal_comma else "."
        if len(groups) == 1 and mark == decimal and not sep:
            return float(whole.replace(mark, "."))  # "13.700" in English is 13.7
        whole = _GROUPS.sub("", whole)  # "13,700", "13.700" in German, "9,70,000"
    if not sep or not frac:
        return float(whole)
    thousands = (sep == "." and decimal_comma) or (sep == "," and not decimal_comma)
    if thousands and len(frac) == 3:
        return float(whole + frac)
    return float(f"{whole}.{frac}")
