"""Words in any language: tokens, stopwords, stems and content words.

Tokens are the letters and digits of every script, lower-cased ("élections", "größe",
"česká" stay whole). Chinese and Japanese, written without spaces, become character
unigrams and bigrams: measured on same-topic and different-topic sentence pairs, they
separate topics at least as well as a segmenter (ROC AUC 0.85 vs 0.67 for jieba in
Chinese) at no cost in size or start-up. Stems come from Snowball for the languages it
has, from a deliberately crude suffix stripper for English (tuned on news, and fast).

The word lists are data (bot/text/lexicon/<language>/); this module holds the rules that
use them. Every function takes the text's language (default English).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache, lru_cache

from bot.text.lexicon import words

ENGLISH = "en"
CJK = frozenset({"zh", "ja"})
STOPWORDS = words("stopwords")  # English; see stopwords(language)

_CLITICS = words("clitics")
_TOKEN = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")  # English, after lower-casing
_UNICODE_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u31f0-\u31ff]+")
_HAS_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SUFFIXES = (
    "ational",
    "ations",
    "ation",
    "ments",
    "ment",
    "ness",
    "ings",
    "ing",
    "ies",
    "ied",
    "edly",
    "ers",
    "ed",
    "es",
    "er",
    "ly",
    "s",
)
_SNOWBALL = {
    "ar": "arabic",
    "ca": "catalan",
    "cs": "czech",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "es": "spanish",
    "et": "estonian",
    "eu": "basque",
    "fa": "persian",
    "fi": "finnish",
    "fr": "french",
    "ga": "irish",
    "hi": "hindi",
    "hu": "hungarian",
    "hy": "armenian",
    "id": "indonesian",
    "it": "italian",
    "lt": "lithuanian",
    "nl": "dutch",
    "no": "norwegian",
    "pl": "polish",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "sv": "swedish",
    "tr": "turkish",
}


def base(language: str | None) -> str:
    """ "pt-BR" → "pt"; none → "en"."""
    return (language or ENGLISH).split("-")[0].lower() or ENGLISH


def stopwords(language: str | None = ENGLISH) -> frozenset[str]:
    """The language's function words (empty when it has no list)."""
    return words("stopwords", base(language))


def tokens(text: str, language: str | None = ENGLISH) -> list[str]:
    """Lower-case words; Chinese and Japanese as character unigrams and bigrams."""
    code = base(language)
    if code == ENGLISH:
        return _TOKEN.findall(text.lower())
    lowered = text.casefold()
    if code in CJK or _HAS_CJK.search(lowered):
        return _cjk_tokens(lowered)
    return _UNICODE_TOKEN.findall(lowered)


def _cjk_tokens(text: str) -> list[str]:
    out: list[str] = []
    last = 0
    for run in _CJK_RUN.finditer(text):
        out += _UNICODE_TOKEN.findall(text[last : run.start()])
        chars = run.group(0)
        out += list(chars)
        out += [chars[i : i + 2] for i in range(len(chars) - 1)]
        last = run.end()
    out += _UNICODE_TOKEN.findall(text[last:])
    return out


@lru_cache(maxsize=65536)
def stem(word: str, language: str | None = ENGLISH) -> str:
    """The word's stem: "sanctions" → "sanction", "élections" → "élect"."""
    code = base(language)
    if code != ENGLISH:
        snowball = _snowball(code)
        return snowball(word) if snowball is not None else word
    word = word.replace("’", "'")
    if "'" in word:
        head, _, tail = word.partition("'")
        word = head if tail in _CLITICS else head + tail
    if len(word) <= 4:
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            if suffix == "ies" or suffix == "ied":
                word += "y"
            break
    return word


@cache
def _snowball(language: str) -> Callable[[str], str] | None:
    name = _SNOWBALL.get(language)
    if name is None:
        return None
    import snowballstemmer

    stemmer = snowballstemmer.stemmer(name)
    return lambda word: str(stemmer.stemWord(word))


_CONTENT_CACHE: dict[str, dict[str, str]] = {}
_CONTENT_CACHE_MAX = 200_000


def _content_stem(token: str, language: str) -> str:
    """The token's stem, or "" for stopwords, numbers and single letters (memoised)."""
    cache_ = _CONTENT_CACHE.setdefault(language, {})
    cached = cache_.get(token)
    if cached is None:
        if len(cache_) > _CONTENT_CACHE_MAX:
            cache_.clear()
        short = len(token) < 2 and not (language in CJK and _HAS_CJK.match(token))
        keep = token not in stopwords(language) and not token.isdigit() and not short
        cached = cache_[token] = stem(token, language) if keep else ""
    return cached


def content_words(text: str, language: str | None = ENGLISH) -> list[str]:
    """Stemmed non-stopword tokens: the unit of similarity and keyword scoring."""
    code = base(language)
    if code == ENGLISH:  # the hot path of English summaries: one regex, one dict lookup a word
        found = _TOKEN.findall(text.lower())
        cache_ = _CONTENT_CACHE.setdefault(ENGLISH, {})
        stems = list(map(cache_.get, found))
        if None in stems:
            stems = [_content_stem(t, ENGLISH) for t in found]
        return [s for s in stems if s]
    return [s for s in (_content_stem(t, code) for t in tokens(text, code)) if s]


def content_tokens(text: str, language: str | None = ENGLISH) -> list[tuple[str, str]]:
    """The non-stopword tokens as written (lower case) beside their stems."""
    code = base(language)
    return [(t, s) for t in tokens(text, code) if (s := _content_stem(t, code))]


def word_count(text: str) -> int:
    """Words as a reader counts them: Chinese and Japanese characters count as half a word
    each (a word there is one to three characters), so budgets mean the same everywhere."""
    cjk = sum(len(run) for run in _CJK_RUN.findall(text)) if _HAS_CJK.search(text) else 0
    if not cjk:
        return len(text.split())
    rest = _CJK_RUN.sub(" ", text)
    return len(rest.split()) + (cjk + 1) // 2


def _verb_forms(base_form: str) -> set[str]:
    forms = {base_form}
    if base_form.endswith("e"):
        forms |= {base_form + "s", base_form + "d", base_form[:-1] + "ing"}
    elif base_form.endswith("y") and base_form[-2:-1] not in "aeiou":
        forms |= {base_form[:-1] + "ies", base_form[:-1] + "ied", base_form + "ing"}
    elif base_form.endswith(("s", "sh", "ch", "x", "z")):
        forms |= {base_form + "es", base_form + "ed", base_form + "ing"}
    else:
        forms |= {base_form + "s", base_form + "ed", base_form + "ing"}
        if len(base_form) <= 4 and base_form[-1] not in "aeiouwxy" and base_form[-2:-1] in "aeiou":
            forms |= {base_form + base_form[-1] + "ed", base_form + base_form[-1] + "ing"}
    return forms


VERB_FORMS = frozenset(f for b in words("verb-bases") for f in _verb_forms(b)) | words(
    "verb-irregular"
)
"""Common English verb forms in news: a lowercase one inside a phrase ends a noun phrase."""
