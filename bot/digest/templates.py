"""A channel's message templates: its digest's header and each article's entry, in Jinja2.

Templates are written by a channel's admins, so they are untrusted code run on every digest
the channel gets. They run in `jinja2.sandbox.ImmutableSandboxedEnvironment`, narrowed further:

- only the documented fields (`HEADER_FIELDS`, `ENTRY_FIELDS`) and two helpers (`range`,
  bounded, and `link`) are in scope; an unknown name is refused when the template is saved,
  and StrictUndefined makes a misspelt attribute fail instead of printing nothing;
- no underscore attribute (`''.__class__`), no `str.format`, only a short list of string,
  list and dict methods and of filters; no macros, `{% set %}` blocks, `{% call %}`,
  `{% filter %}`, recursive loops, includes or imports (each would let output pile up
  unseen, or reach other templates);
- repeats (`'x' * 10**9`, `[x] * n`, `~` and `+` chains, wide padding) are checked before
  they are built; every render has a budget of Python steps and of time, and its output is
  counted as it is produced and stopped at `MAX_OUTPUT`.

Article text stays data: every `{{ … }}` value is escaped by the platform's `Dialect` (Slack
mrkdwn, Discord markdown) before it joins the admin's own text, and the whole output is then
defused of broadcast mentions. The renderers keep their limits: a template's output is fitted
to the place it goes (`render_part`), and when saving (`strict`) output over that place's limit
is refused instead.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from types import FrameType
from typing import Any, TypeVar

from jinja2 import StrictUndefined, TemplateSyntaxError, meta, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.exceptions import TemplateError as JinjaError
from jinja2.runtime import LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment

from bot.digest.fitting import clip, pack_lines
from bot.errors import NewsdigestError
from bot.i18n import _, ngettext
from bot.models import Digest

log = logging.getLogger(__name__)
T = TypeVar("T")

KINDS = ("header", "entry")
MAX_TEMPLATE = 2000  # characters of template source
MAX_OUTPUT = 8000  # characters one render may produce (above every platform's place for it)
MAX_SIZE = 8000  # characters of any string, or items of any list, a template builds
MAX_RANGE = 1000  # items range() may give, or a list repeated with * may have
MAX_INT_BITS = 4096  # of a product
MAX_STEPS = 100_000  # Python steps (lines and calls) one render may take
MAX_SECONDS = 0.25  # and wall-clock time

HEADER_FIELDS: dict[str, str] = {
    "title": "the digest's title (“News digest — 2025-05-01”)",
    "count": "how many articles the digest has",
    "count_text": "“3 new articles”, in the channel's language",
    "articles": "the entries' fields, one per article (for a list in the header)",
}
ENTRY_FIELDS: dict[str, str] = {
    "number": "the article's place in the digest, from 1",
    "title": "the article's title",
    "outlet": "who reported it",
    "also_outlets": "other outlets reporting the same story (a list of names)",
    "url": "the article's link (empty when it has none)",
    "published": "when it was published, “2025-05-01 07:30” (empty when unknown)",
    "language": "the article's language code (“en”)",
    "summary": "the summary bullets (a list of texts)",
    "sections": "the sections: each has heading, id and bullets (a list of texts)",
    "teaser": "why only a teaser could be read, when so (else empty)",
}
HELPERS = ("range", "link", "loop")  # range(n) bounded; link(url, label) a platform link
FIELDS: dict[str, dict[str, str]] = {"header": HEADER_FIELDS, "entry": ENTRY_FIELDS}


class TemplateError(NewsdigestError):
    """A template that cannot be used: refused when saved, skipped (default used) when posting."""

    kind = "bad_template"


@dataclass(frozen=True)
class Templates:
    """A channel's templates; None is the built-in rendering for that part.

    `strict` is for checking before saving: output over a platform's limit raises instead of
    being fitted, and a failing template raises instead of falling back to the default."""

    header: str | None = None
    entry: str | None = None
    strict: bool = False

    def get(self, which: str) -> str | None:
        return self.header if which == "header" else self.entry

    def with_part(self, which: str, text: str | None) -> Templates:
        if which == "header":
            return replace(self, header=text)
        return replace(self, entry=text)

    @property
    def custom(self) -> bool:
        return self.header is not None or self.entry is not None

    def as_plan(self) -> dict[str, str | None]:
        return {"header": self.header, "entry": self.entry}

    @classmethod
    def from_plan(cls, plan: Mapping[str, Any] | None) -> Templates | None:
        if not plan:
            return None
        made = cls(plan.get("header"), plan.get("entry"))
        return made if made.custom else None


def _same(text: str) -> str:
    return text


def _plain_link(url: str | None, label: str) -> str:
    return f"{label} ({url})" if url else label


@dataclass(frozen=True)
class Dialect:
    """How a platform's markup reads text: how a value is escaped so it stays text, how a link
    is written, and how broadcast mentions in the finished output are defused."""

    name: str
    escape: Callable[[str], str] = _same
    link: Callable[[str | None, str], str] = _plain_link
    defuse: Callable[[str], str] = _same


PLAIN = Dialect("plain")


class _Markup(str):
    """Text a dialect already wrote (a link): not escaped again. Any operation on it gives a
    plain str, which is escaped."""


# What each platform posts today, as templates: a channel without templates of its own gets
# exactly this (rendered by the built-in code, which these reproduce; tests hold them equal).
DEFAULTS: dict[str, Templates] = {
    "slack": Templates(
        header="{{ title }}",
        entry="• {{ link(url, title) }} · _{{ outlet }}_",
    ),
    "discord": Templates(
        header="**{{ title }}** — {{ count_text }}",
        entry="{% for bullet in summary %}\n• {{ bullet }}\n{% endfor %}",
    ),
    "console": Templates(
        header="=== {{ title }} — {{ count_text }} ===",
        entry="  • {{ title }} — {{ outlet }}",
    ),
}


def default_template(platform: str, which: str) -> str:
    return (DEFAULTS.get(platform) or DEFAULTS["console"]).get(which) or ""


# fields ------------------------------------------------------------------------------------
def entry_fields(digest: Digest, also: Sequence[str] = (), number: int = 1) -> dict[str, Any]:
    """What an entry template sees of one article (see ENTRY_FIELDS)."""
    from bot.digest.formats import teaser_note
    from bot.digest.sections import display_heading

    article = digest.article
    return {
        "number": number,
        "title": article.title,
        "outlet": article.outlet_name,
        "also_outlets": list(also),
        "url": article.url or "",
        "published": article.published.strftime("%Y-%m-%d %H:%M") if article.published else "",
        "language": article.language,
        "summary": [b.text for b in digest.summary],
        "sections": [
            {
                "heading": display_heading(s.heading, s.titled),
                "id": s.id,
                "bullets": [b.text for b in s.bullets],
            }
            for s in digest.sections
        ],
        "teaser": teaser_note(article.teaser) if article.teaser else "",
    }


def header_fields(title: str, entries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """What a header template sees (see HEADER_FIELDS); `entries` are the entry fields."""
    count = len(entries)
    return {
        "title": title,
        "count": count,
        "count_text": ngettext("{count} new article", "{count} new articles", count).format(
            count=count
        ),
        "articles": list(entries),
    }


SAMPLE_ENTRY: dict[str, Any] = {
    "number": 1,
    "title": "Council approves the new bridge <after> a 7-2 vote & *debate*",
    "outlet": "Example Gazette",
    "also_outlets": ["Daily Example", "Example Times"],
    "url": "https://news.example.com/bridge?id=1&x=2",
    "published": "2025-05-01 07:30",
    "language": "en",
    "summary": [
        "The council approved the bridge on Tuesday by seven votes to two.",
        "Building starts in March and should take two years.",
    ],
    "sections": [
        {"heading": "Cost", "id": "cost", "bullets": ["It will cost $40m, mostly from the state."]},
        {"heading": "What opponents say", "id": "opponents", "bullets": []},
    ],
    "teaser": "teaser only: the page could not be read",
}


def sample_digest() -> Digest:
    """An article with every field set, for checking and previewing templates in a channel
    that has had no digest yet."""
    from datetime import UTC, datetime

    from bot.models import Article, Bullet, SectionDigest

    sample = SAMPLE_ENTRY
    article = Article(
        sample["title"],
        (),
        sample["url"],
        published=datetime(2025, 5, 1, 7, 30, tzinfo=UTC),
        url=sample["url"],
        outlet=sample["outlet"],
        teaser="the page could not be read",
    )
    sections = tuple(
        SectionDigest(s["id"], n, s["heading"], True, tuple(Bullet(b, ()) for b in s["bullets"]))
        for n, s in enumerate(sample["sections"], 2)
    )
    return Digest(article, tuple(Bullet(b, ()) for b in sample["summary"]), sections)


def sample_fields(which: str) -> dict[str, Any]:
    """Fields for checking a template when the channel has no digest yet: every field set."""
    if which == "entry":
        return dict(SAMPLE_ENTRY)
    return header_fields("News digest — 2025-05-01", [SAMPLE_ENTRY, SAMPLE_ENTRY])


# the sandbox -------------------------------------------------------------------------------
_STR_METHODS = frozenset(
    [
        "capitalize",
        "casefold",
        "count",
        "endswith",
        "find",
        "index",
        "isalnum",
        "isalpha",
        "isdigit",
        "islower",
        "isspace",
        "istitle",
        "isupper",
        "lower",
        "lstrip",
        "removeprefix",
        "removesuffix",
        "rfind",
        "rsplit",
        "rstrip",
        "split",
        "splitlines",
        "startswith",
        "strip",
        "swapcase",
        "title",
        "upper",
    ]
)
_DICT_METHODS = frozenset({"get", "keys", "values", "items"})
_LIST_METHODS = frozenset({"count", "index"})
_LOOP_ATTRIBUTES = frozenset(
    [
        "index",
        "index0",
        "revindex",
        "revindex0",
        "first",
        "last",
        "length",
        "depth",
        "depth0",
        "previtem",
        "nextitem",
        "cycle",
        "changed",
    ]
)
_FILTERS = [
    "abs",
    "capitalize",
    "count",
    "d",
    "default",
    "first",
    "float",
    "int",
    "join",
    "last",
    "length",
    "list",
    "lower",
    "map",
    "max",
    "min",
    "reject",
    "rejectattr",
    "replace",
    "reverse",
    "round",
    "select",
    "selectattr",
    "sort",
    "string",
    "title",
    "trim",
    "truncate",
    "unique",
    "upper",
    "urlencode",
    "wordcount",
]
# what a template may not use, as it is written
_FORBIDDEN_NODES: dict[type[nodes.Node], str] = {
    nodes.Macro: "{% macro %}",
    nodes.CallBlock: "{% call %}",
    nodes.FilterBlock: "{% filter %}",
    nodes.AssignBlock: "{% set %}…{% endset %}",
    nodes.Extends: "{% extends %}",
    nodes.Include: "{% include %}",
    nodes.Import: "{% import %}",
    nodes.FromImport: "{% from … import %}",
    nodes.Block: "{% block %}",
}


class _Budget:
    """Steps and time left to one render; counted by a trace function on its thread."""

    def __init__(self) -> None:
        self.steps = MAX_STEPS
        self.deadline = time.monotonic() + MAX_SECONDS

    def spend(self) -> None:
        self.steps -= 1
        if self.steps <= 0 or (self.steps % 256 == 0 and time.monotonic() > self.deadline):
            raise TemplateError(_("The template takes too long to render (a runaway loop?)."))

    def trace(self, frame: FrameType, event: str, arg: object) -> Any:
        self.spend()
        return self.trace if frame.f_code.co_filename == "<template>" else None


def _too_big() -> TemplateError:
    return TemplateError(
        _("The template builds text longer than {limit} characters.").format(limit=MAX_SIZE)
    )


def _check_size(value: object) -> object:
    if isinstance(value, str | list | tuple | dict) and len(value) > MAX_SIZE:
        raise _too_big()
    return value


def _bounded_range(*args: int) -> range:
    made = range(*args)
    if len(made) > MAX_RANGE:
        raise TemplateError(_("range() may give at most {limit} numbers.").format(limit=MAX_RANGE))
    return made


class _Generator(CodeGenerator):
    """Jinja's code generator with `a ~ b ~ …` joined through the size check."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.bounded_join((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class _Sandbox(ImmutableSandboxedEnvironment):
    code_generator_class = _Generator
    intercepted_binops = frozenset({"*", "**", "+", "%", "//", "/"})

    def __init__(self, dialect: Dialect) -> None:
        super().__init__(
            undefined=StrictUndefined,
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
            finalize=self._finalize,
            cache_size=0,
        )
        self.dialect = dialect
        self.globals = {"range": _bounded_range, "link": self._link}
        self.filters = {name: _sized_filter(self.filters[name]) for name in _FILTERS}
        self.filters["replace"] = _sized_filter(_replace)

    def _finalize(self, value: object) -> str:
        """Every `{{ … }}` value: escaped for the platform unless the dialect wrote it."""
        if isinstance(value, _Markup):
            return str.__str__(value)
        text = value if isinstance(value, str) else ("" if value is None else str(value))
        return self.dialect.escape(str.__str__(text))

    def _link(self, url: object, label: object) -> _Markup:
        return _Markup(self.dialect.link(str(url or "") or None, str(label)))

    def bounded_join(self, parts: Iterable[object]) -> str:
        values = [str.__str__(p) if isinstance(p, str) else str(p) for p in parts]
        if sum(len(v) for v in values) > MAX_SIZE:
            raise _too_big()
        return "".join(values)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if attr.startswith("_") or not super().is_safe_attribute(obj, attr, value):
            return False
        if isinstance(obj, str):
            return attr in _STR_METHODS
        if isinstance(obj, dict):
            return attr in _DICT_METHODS
        if isinstance(obj, list | tuple):
            return attr in _LIST_METHODS
        if isinstance(obj, LoopContext):
            return attr in _LOOP_ATTRIBUTES
        return False

    def wrap_str_format(self, value: Any) -> None:
        return None  # str.format is not among the allowed methods

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "%" and isinstance(left, str):
            raise TemplateError(_("Use filters instead of % formatting in templates."))
        if operator == "**" and (not isinstance(right, int | float) or abs(right) > 64):
            raise _too_big()
        if operator == "*":
            sized, times = (left, right) if isinstance(right, int) else (right, left)
            if isinstance(sized, str | list | tuple) and isinstance(times, int):
                most = MAX_SIZE if isinstance(sized, str) else MAX_RANGE
                if len(sized) * times > most:
                    raise _too_big()
            elif (
                isinstance(left, int)
                and isinstance(right, int)
                and left.bit_length() + right.bit_length() > MAX_INT_BITS
            ):
                raise _too_big()
        if (
            operator == "+"
            and isinstance(left, str | list | tuple)
            and isinstance(right, str | list | tuple)
            and len(left) + len(right) > MAX_SIZE
        ):
            raise _too_big()
        return _check_size(super().call_binop(context, operator, left, right))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        for value in (*args, *kwargs.values()):
            if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_SIZE:
                raise _too_big()
        return _check_size(super().call(__context, __obj, *args, **kwargs))


def _sized_filter(function: Callable[..., Any]) -> Callable[..., Any]:
    """A filter whose numeric arguments and result are held to the size limit."""

    def sized(*args: Any, **kwargs: Any) -> Any:
        for value in (*args[1:], *kwargs.values()):
            if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_SIZE:
                raise _too_big()
        return _check_size(function(*args, **kwargs))

    # keep Jinja's pass_context / pass_eval_context marker, which it reads from the function
    if hasattr(function, "jinja_pass_arg"):
        sized.jinja_pass_arg = function.jinja_pass_arg  # type: ignore[attr-defined]
    return sized


def _replace(text: object, old: object, new: object, count: int | None = None) -> str:
    source, before, after = str(text), str(old), str(new)
    times = source.count(before) if before else len(source) + 1
    if count is not None:
        times = min(times, max(count, 0))
    if len(source) + times * max(len(after) - len(before), 0) > MAX_SIZE:
        raise _too_big()
    return source.replace(before, after, -1 if count is None else count)


@cache
def _sandbox(dialect: Dialect) -> _Sandbox:
    return _Sandbox(dialect)


@lru_cache(maxsize=512)
def _compiled(dialect: Dialect, which: str, source: str) -> Any:
    """The template compiled for a dialect (cached: the same few templates render daily)."""
    environment = _sandbox(dialect)
    if len(source) > MAX_TEMPLATE:
        raise TemplateError(
            _("A template may be at most {limit} characters; this one has {size}.").format(
                limit=MAX_TEMPLATE, size=len(source)
            )
        )
    try:
        tree = environment.parse(source)
        _check_tree(tree, which)
        return environment.from_string(tree)
    except TemplateSyntaxError as exc:  # also an unknown filter or test
        raise TemplateError(
            _("Template syntax error on line {line}: {error}").format(
                line=exc.lineno, error=exc.message
            )
        ) from exc


def _check_tree(tree: nodes.Template, which: str) -> None:
    """Refuse what a template may not use, and names that are not fields."""
    for node in tree.find_all(tuple(_FORBIDDEN_NODES)):
        raise TemplateError(
            _("Templates may not use {what}.").format(what=_FORBIDDEN_NODES[type(node)])
        )
    for loop in tree.find_all(nodes.For):
        if loop.recursive:
            raise TemplateError(_("Templates may not use recursive loops."))
    for name in sorted(meta.find_undeclared_variables(tree)):
        if name not in FIELDS[which] and name not in HELPERS:
            raise TemplateError(
                _("Unknown field '{name}' in the {which} template. Fields: {fields}.").format(
                    name=name, which=which, fields=", ".join(FIELDS[which])
                )
            )


def check(which: str, source: str) -> None:
    """Raise TemplateError when `source` cannot be a `which` template: syntax, forbidden
    constructs, unknown fields, or failing on a sample that has every field set."""
    if which not in KINDS:
        raise TemplateError(_("A template is for the header or an entry."))
    render(source, which, sample_fields(which), PLAIN)


async def off_loop_for(templates: Templates | None, work: Callable[[], T]) -> T:
    """Run `work`, which renders with `templates`, on a worker thread when they are a
    channel's own. A custom template is bounded (a step budget, MAX_SECONDS), but on the event
    loop even that bound would stall every channel's sends and every command for as long; the
    built-in templates take microseconds and run in place."""
    if templates is not None and templates.custom:
        return await asyncio.to_thread(work)
    return work()


def render(source: str, which: str, fields: Mapping[str, Any], dialect: Dialect) -> str:
    """The template's output for these fields, within the sandbox's budgets; raises
    TemplateError (with a message an admin can act on) when it cannot be rendered."""
    template = _compiled(dialect, which, source)
    budget = _Budget()
    previous = sys.gettrace()
    chunks: list[str] = []
    size = 0
    sys.settrace(budget.trace)
    try:
        for chunk in template.generate(dict(fields)):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise TemplateError(
                    _("The template's output is longer than {limit} characters.").format(
                        limit=MAX_OUTPUT
                    )
                )
            chunks.append(chunk)
    except TemplateError:
        raise
    except SecurityError as exc:
        raise TemplateError(
            _("The template does something not allowed: {error}").format(error=exc)
        ) from exc
    except UndefinedError as exc:
        raise TemplateError(
            _("The template names something that does not exist: {error}").format(error=exc)
        ) from exc
    except (JinjaError, ArithmeticError, LookupError, TypeError, ValueError) as exc:
        raise TemplateError(_("The template failed: {error}").format(error=exc)) from exc
    except RecursionError as exc:
        raise TemplateError(_("The template takes too long to render (a runaway loop?).")) from exc
    finally:
        sys.settrace(previous)
    # one final line break goes: a loop writing a line per item ends without an empty line
    return dialect.defuse("".join(chunks).removesuffix("\n"))


def render_part(
    templates: Templates | None,
    which: str,
    fields: Mapping[str, Any] | Callable[[], Mapping[str, Any]],
    dialect: Dialect,
    limit: int,
    lines: bool = False,
) -> str | None:
    """The channel's `which` template rendered for the place a renderer puts it, or None when
    the built-in rendering is to be used (no template; or, when posting, a template that
    failed: logged, and the digest goes out as by default rather than not at all).

    Output over `limit` is fitted as the renderers fit text (between lines when `lines`),
    except in a strict check, where it is refused."""
    source = templates.get(which) if templates is not None else None
    if templates is None or source is None:
        return None
    try:
        text = render(source, which, fields() if callable(fields) else fields, dialect)
    except TemplateError as exc:
        if templates.strict:
            raise
        log.warning("the %s template failed, so the default was used: %s", which, exc.message)
        return None
    if len(text) <= limit:
        return text
    if templates.strict:
        raise TemplateError(
            _(
                "The {which} template gives {size} characters on this channel's latest digest; "
                "{platform} allows {limit} there."
            ).format(which=which, size=len(text), platform=dialect.name, limit=limit)
        )
    if lines:
        return next(iter(pack_lines(text.split("\n"), limit, trailing=" \\")), "")
    return clip(text, limit, trailing=" \\")
