"""Text cleanup shared by every ingester: boilerplate, datelines, dashes, fragments.

Kept free of any format knowledge so that plain text, HTML and feed entries get
exactly the same judgement about what is junk and what is a cut-off paragraph.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.models import Block, BlockKind

_BOILERPLATE_LINE = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\breturn to (?:the )?(?:menu|top|home(?:page)?|index)\b",
        r"^printable (?:page|version)\b",
        r"\bpage\s+\d+(?:\s+\d+){2,}",
        r"^(?:copyright|©|\(c\))\s",
        r"\ball rights reserved\b",
        r"^powered by\b",
        r"^disclaimer\W*$",
        r"^(?:advertisement|sponsored content|story continues below)\W*$",
        r"^(?:scroll down for video|click here\b.*|read more\W*$|share this\b.*)",
        r"^(?:print|email|share|tweet|facebook|twitter|linkedin|whatsapp)(?:\s*[|·•/]\s*\w+)+\s*$",
        r"^(?:home|news|sports|weather|business|opinion|menu)(?:\s*[|·•»>]\s*\w[\w ]*){2,}$",
        r"^(?:previous|next) (?:article|story|page)\W*$",
        r"^(?:sign up|subscribe)\b.{0,80}(?:newsletter|updates|today)\W*$",
        r"^follow us on\b",
        r"^(?:last|first) (?:updated|published|modified)\b.{0,60}$",
        r"^(?:published|updated):?\s*[\d.:, ]+\w{0,12}\s*[\d,: ]*(?:am|pm|gmt|est|edt|bst|utc)?\W*$",
        r"^(?:by\s+)?(?:associated press|reuters|daily mail reporter)\s*\.?$",
        r"^(?:photo|image|picture|video)(?: credit)?:",
        # "Read more", "Lire aussi : <another headline>": a pointer to another article
        r"^(?:read (?:more|also)|also read|see also|related(?: (?:articles?|stories|news))?"
        r"|leia (?:mais|também)|saiba mais|veja (?:também|mais)|(?:à )?lire (?:aussi|la suite)"
        r"|lee (?:también|más)|leer más|lesen sie (?:auch|mehr)|mehr zum thema|weiterlesen"
        r"|leggi (?:anche|di più)|potrebbe interessarti)\s*(?:[:>»|–-]\s*.{0,150})?$",
        # players, galleries and sliders that lost their media
        r"\b(?:this|the) video (?:is (?:not|no longer) available|is unavailable|cannot be played)",
        r"^unfortunately,? (?:this|the) (?:video|content|media|player)\b",
        r"\byour browser does not support\b",
        r"\bvideo (?:non (?:è )?disponibile|nicht verfügbar|no (?:está )?disponible|non disponible"
        r"|indisponível|não está disponível)",
        r"^\d{1,3}\s*(?:/|of|von|di|de|sur)\s*\d{1,3}\W*$",
        r"^(?:previous|prev|zurück|précédent|anterior|precedente)\W*"
        r"(?:next|weiter|suivant|siguiente|próximo|successivo)\W*$",
        # "like us on Facebook", "follow our Instagram page": a site's plug, not the article
        r"\b(?:like|follow|find|join|visit|support) (?:us|our(?: \w+){0,2}) on "
        r"(?:facebook|twitter|instagram|x|tiktok|youtube|linkedin|telegram|whatsapp)\b",
        r"\b(?:like|follow|join|visit) our (?:official )?(?:facebook|instagram|twitter|telegram)"
        r"(?: page| group| channel)?\b",
    )
]
_MAX_BOILERPLATE_LINE = 160

# "TOKYO (AP) --", "WASHINGTON, D.C. (Reuters) -", "(CNN) --", "LONDON — ", "BEIRUT, Lebanon (AP) —"
_DATELINE = re.compile(
    r"""^\s*
    (?P<place>[A-Z][A-Z.'\- ]{1,40}?(?:,\s*[A-Z][\w.'\- ]{1,30}?)?)?
    \s*(?P<agency>\((?:AP|Reuters|AFP|CNN|UPI|Bloomberg|dpa|Xinhua|CNS|RNS|BBC|NPR|[A-Z]{2,6})\))?
    \s*(?:--+|—|–|-)\s+""",
    re.VERBOSE,
)
_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec"
_STAMP_TOKEN = (
    rf"(?:(?:{_MONTHS})[a-z]*\.?|(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?|\d{{1,4}}(?::\d{{2}})?"
    r"|[ap]\.?m\.?|e[sd]?t|p[sd]?t|c[sd]?t|gmt|bst|utc|cet|cest|at|[,|/-])"
)
_LEADING_STAMP = re.compile(
    rf"^(?:last\s+)?(?:updated|published|posted|modified)\s*:?\s*(?:{_STAMP_TOKEN}\s*){{2,14}}(?=\S)",
    re.IGNORECASE,
)
_INVISIBLE = re.compile("[\u00ad\u200b-\u200d\u2060\ufeff]")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_AGENCY_DATELINE = re.compile(
    r"^\s*(?:[A-Z][A-Z.'\- ]{1,40}(?:,\s*[A-Z][\w.'\- ]{1,30})?\s*)?"
    r"\((?:AP|Reuters|AFP|CNN|UPI|Bloomberg|dpa|Xinhua|BBC|NPR|[A-Z0-9]{2,8})\)\s*(?:--+|—|–|-)\s+"
)
_PHOTO_CREDIT = re.compile(
    r"^\s*(?:photo(?:graph)?|image|picture|pictured)(?:\s+credit)?\s*:\s*[^.]{0,80}?"
    r"(?:/\s*)?(?:getty images|ap|reuters|afp|epa|pa|shutterstock|rex|ap photo)\s+(?=[A-Z\"'“])",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"""[.!?…。！？؟]["'”’»)\]」』）]*$|[.!?。！？؟]\s*\W?$""")
_DASHES = re.compile(r"\s+-{2,3}\s+|\s*---\s*")


@dataclass(frozen=True)
class Dateline:
    place: str | None
    agency: str | None


_FULL_WIDTH = re.compile(r"([\uff01-\uff5e]+)")


def normalize_text(text: str) -> str:
    """Unify the invisible differences (NBSP, soft hyphens, zero-widths, ligatures) that break
    matching; Chinese and Japanese full-width punctuation and digits (，：（４）) stay as written."""
    if _FULL_WIDTH.search(text):
        parts = _FULL_WIDTH.split(text)
        text = "".join(
            p if i % 2 else unicodedata.normalize("NFKC", p) for i, p in enumerate(parts)
        )
    else:
        text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    return _CONTROL.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))


_JUNK_HEADING = re.compile(
    r"""^(?:
    (?:most\s+(?:read|popular|viewed|shared|commented|emailed)|related|more\s+(?:from|on|in|stories
    |news|coverage|to\s+read|like\s+this)|recommended|trending|top\s+stories|latest\s+(?:news|stories)
    |editor'?s?\s+picks|(?:sign\s+up|subscribe)\b|newsletters?\b|share\s+(?:this|on)\b|follow\s+us\b
    |you\s+(?:may|might)\s+(?:also\s+)?(?:like|enjoy|be\s+interested|have\s+missed)|around\s+the\s+web
    |sponsored|from\s+(?:our|the)\s+partners|(?:join|read|view|show)\s+(?:the\s+)?(?:comments|discussion
    |conversation)|popular\s+(?:on|in|at|now)|join\s+(?:our|us)|story\s+continues|continue\s+reading
    |keep\s+reading|tell\s+us\s+what\s+you\s+think|what\s+do\s+you\s+think|have\s+your\s+say
    |leave\s+a\s+(?:comment|reply)|post\s+a\s+comment|we\s+recommend|don'?t\s+miss|see\s+also
    |further\s+reading|in\s+(?:other|related)\s+news|also\s+on|elsewhere\s+on|shop\s+(?:now|the)
    |(?:listen|subscribe)\s+to\s+(?:the|our)\b.{0,40}podcast)(?:\s.{0,60})?
    |comments?|\d+\s+comments?|read\s+(?:more|next|this\s+next)|more|share|print|email|advertisement|(?:what\s+)?to\s+read\s+next
    |topics|tags|about\s+the\s+author|(?:photo|image)\s+gallery|watch(?:\s+now)?|listen(?:\s+now)?
    )\W*$""",
    re.IGNORECASE | re.VERBOSE,
)
_SEPARATOR = re.compile(r"^[\W_]+$")


_INTERRUPTION = re.compile(
    r"""^(?:more|share|print|email|advertisement|story\s+continues\b.*|continue\s+reading\b.*
    |keep\s+reading\b.*|watch(?:\s+now)?|listen(?:\s+now)?|(?:photo|image)\s+gallery)\W*$""",
    re.IGNORECASE | re.VERBOSE,
)


def interrupts_only(text: str) -> bool:
    """A junk heading the article carries on after ("Story continues below", "Advertisement"),
    unlike a promo box ("Most read", "Comments") whose own lines follow it."""
    return is_separator(text) or bool(_INTERRUPTION.match(text.strip()))


def is_junk_heading(text: str) -> bool:
    """Site furniture that looks like a heading: "Most read", "Related", "Comments", newsletter
    boxes, separator lines. What follows such a heading is promotion, not the article."""
    stripped = text.strip()
    return bool(_SEPARATOR.match(stripped) or _JUNK_HEADING.match(stripped))


def is_separator(text: str) -> bool:
    """A line of rules or ornaments ("-----", "* * *", "• • •"): it separates, it says nothing."""
    return bool(_SEPARATOR.match(text.strip()))


def is_boilerplate(line: str) -> bool:
    stripped = line.strip()
    if not stripped:
        return False
    if len(stripped) > _MAX_BOILERPLATE_LINE:
        return False
    return any(p.search(stripped) for p in _BOILERPLATE_LINE)


def normalize_dashes(text: str) -> str:
    """Typewriter dashes ("--", "---") become a real em dash with normal spacing."""
    return _DASHES.sub(" — ", text) if "--" in text else text


def split_dateline(paragraph: str) -> tuple[Dateline | None, str]:
    """Strip a leading wire-service dateline; return it separately from the body text."""
    match = _DATELINE.match(paragraph)
    if not match or not (match.group("place") or match.group("agency")):
        return None, paragraph
    place = (match.group("place") or "").strip(" ,") or None
    if place and not _looks_like_place(place):
        return None, paragraph
    rest = paragraph[match.end() :].lstrip()
    if not rest:
        return None, paragraph
    agency = (match.group("agency") or "").strip("()") or None
    if place is None and agency is None:
        return None, paragraph
    return Dateline(place=place, agency=agency), rest


def _looks_like_place(place: str) -> bool:
    head = place.split(",")[0].strip()
    letters = [c for c in head if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters) and len(head.split()) <= 4


_SLIDER_OPENER = re.compile(
    r"^(?:previous\s*next|prev\s*next|zurück\s*weiter|précédent\s*suivant|anterior\s*siguiente)"
    r"\s+(?=\S)",
    re.IGNORECASE,
)
_GALLERY_COUNTER = re.compile(r"^\d{1,3}\s*(?:/|of)\s*\d{1,3}\s+(?=\S)")
# "SUSIE O’BRIEN THE good thing about…": a byline in capitals glued to a first word in capitals
_GLUED_BYLINE = re.compile(r"^(?:[A-Z][A-Z'’.\-]+\s+){2,3}(?=(?P<first>[A-Z]{2,})\s+[a-z])")
# "本报讯（记者 王丽）", "新华社北京9月5日电（记者 张三）", "【环球网报道】": the wire's opener
_CJK_OPENER = re.compile(
    r"^(?:[^（(【\s]{0,24}(?:讯|电|報|报道|報導)\s*[（(][^）)]{0,30}[）)]|【[^】]{1,30}】)"
)


def strip_agency_dateline(sentence: str) -> str:
    """Wire copy pasted mid-article keeps its "(CNN) --" opener, scraped copy a glued photo
    credit ("Photograph: Name/Getty Images The man…"), a slider's "PreviousNext", a
    gallery's "1/50", a byline in capitals ("SUSIE O’BRIEN THE good thing…") or a Chinese
    wire's "本报讯（记者 王丽）"; a bullet must have none of them."""
    for opener, rest_at_least in ((_SLIDER_OPENER, 20), (_GALLERY_COUNTER, 20), (_CJK_OPENER, 8)):
        found = opener.match(sentence)
        if found and len(sentence) - found.end() >= rest_at_least:
            sentence = sentence[found.end() :].lstrip()
    byline = _GLUED_BYLINE.match(sentence)
    if byline and len(sentence) - byline.end() >= 20:
        first = byline.group("first")
        sentence = first[0] + first[1:].lower() + sentence[byline.end() + len(first) :]
    credit = _PHOTO_CREDIT.match(sentence)
    if credit:
        sentence = sentence[credit.end() :]
    match = _AGENCY_DATELINE.match(sentence)
    if not match:
        return sentence
    rest = sentence[match.end() :]
    return rest if rest[:1].isupper() or rest[:1] in "\"'“" else sentence


def strip_leading_timestamp(paragraph: str) -> str:
    """Pages glue "Updated Jul 7, 2012 6:40 PM ET" onto the first sentence; cut it off."""
    match = _LEADING_STAMP.match(paragraph)
    if not match:
        return paragraph
    rest = paragraph[match.end() :]
    return rest if rest[:1].isupper() or rest[:1] in "\"'“(" else paragraph


def is_truncated(paragraph: str) -> bool:
    """A paragraph that stops without closing punctuation lost its end on the page."""
    text = paragraph.rstrip()
    if not text:
        return False
    if text.endswith(":"):
        return False
    return _SENTENCE_END.search(text[-12:]) is None


def take_dateline(blocks: list[Block]) -> tuple[list[Block], Dateline | None]:
    """Clean the first paragraph's opener (timestamp, dateline) and return the dateline."""
    for i, block in enumerate(blocks):
        if block.kind is not BlockKind.PARAGRAPH:
            continue
        text = strip_leading_timestamp(block.text)
        dateline, rest = split_dateline(text)
        if rest != block.text:
            blocks = list(blocks)
            blocks[i] = Block(BlockKind.PARAGRAPH, rest, truncated=block.truncated)
        return blocks, dateline
    return blocks, None


_TITLE_SEPARATOR = re.compile(r"\s+(?:[|\-–—·•»:/]|::)\s+")
_MIN_TITLE_CHARS = 8


def title_without_site(title: str, *sites: str | None) -> str:
    """The headline without the site's name pages put before or after it ("… | Al Bawaba",
    "Remember 80/90 - …"): a segment is dropped when it names the site as the page, the
    feed or the host name call it (accents, case and punctuation aside). Only a segment that
    names the site goes, with what follows it: a title that merely has a dash keeps it."""
    names = {n for n in (_site_key(s) for s in sites if s) if len(n) >= 3}
    if not names:
        return title
    parts = _TITLE_SEPARATOR.split(title)
    if len(parts) < 2:
        return title
    seps = _TITLE_SEPARATOR.findall(title)

    def names_site(part: str) -> bool:
        key = _site_key(part)
        return bool(key) and any(
            key == n or n in key or (len(key) >= 4 and key in n) for n in names
        )

    start, end = 0, len(parts)
    for i in range(1, len(parts)):  # the first segment naming the site, and all after it
        if names_site(parts[i]):
            end = i
            break
    if end == len(parts) and names_site(parts[0]):  # the site's name first: "Site | Headline"
        start = 1
    kept = parts[start:end]
    if not kept:
        return title
    joined = kept[0] + "".join(
        sep + part for sep, part in zip(seps[start:], kept[1:], strict=False)
    )
    return joined if len(joined) >= _MIN_TITLE_CHARS else title


def _site_key(name: str) -> str:
    """ "Aktuálně.cz", "www.aktualne.cz" and "AKTUALNE" all give "aktualne"."""
    host = name.strip().lower()
    if "://" in host:
        host = host.split("://", 1)[1].split("/", 1)[0]
    host = host.removeprefix("www.")
    if re.fullmatch(r"[\w.-]+\.[a-z]{2,}", host):
        host = host.rsplit(".", 1)[0]  # the host without its top-level domain
    plain = unicodedata.normalize("NFKD", host)
    return "".join(c for c in plain if c.isalnum())
