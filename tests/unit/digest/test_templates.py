"""The template sandbox: fields, escaping, and known server-side template injection payloads."""

from __future__ import annotations

from typing import Any

import pytest

from bot.digest.templates import (
    DEFAULTS,
    MAX_OUTPUT,
    PLAIN,
    Dialect,
    TemplateError,
    Templates,
    check,
    entry_fields,
    render,
    render_part,
    sample_digest,
    sample_fields,
)

# Payloads from SSTI cheat sheets (PayloadsAllTheThings, HackTricks) and Jinja sandbox escapes,
# and denial of service by loops and repeats: each must be refused, none may run.
INJECTIONS = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ config.items() }}",
    "{{ self.__init__.__globals__.__builtins__ }}",
    "{{ request.application.__globals__ }}",
    "{{ title.__class__.__base__.__subclasses__() }}",
    "{{ summary.__class__ }}",
    "{{ sections[0].__class__ }}",
    "{{ title|attr('__class__') }}",
    "{{ title['__class__'] }}",
    "{{ '{0.__class__}'.format(title) }}",
    "{{ title.format_map({}) }}",
    "{{ '%s' % title }}",
    "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{{ range.__globals__ }}",
    "{{ link.__globals__ }}",
    "{{ link.__self__.dialect }}",
    "{% import 'os' as os %}",
    "{% include '/etc/passwd' %}",
    "{% extends 'base' %}",
    "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
    "{% set x %}{{ title }}{% endset %}{{ x }}",
    "{% filter upper %}{{ title }}{% endfilter %}",
    "{% for x in summary recursive %}{{ loop(summary) }}{% endfor %}",
    # runaway loops and huge repeats
    "{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}",
    "{% for i in range(1000) %}{% for j in range(1000) %}{{ i }}{% endfor %}{% endfor %}",
    "{% for a in 'x' * 8000 %}{% for b in 'x' * 8000 %}{% endfor %}{% endfor %}",
    "{{ range(10**9) }}",
    "{{ 'x' * 100000000 }}",
    "{{ [title] * 100000 }}",
    "{{ 9 ** 999999 }}",
    "{% set n = 99999999999 %}" + "{% set n = n * n %}" * 12 + "{{ n }}",
    "{% set a = 'x' * 8000 %}{{ a ~ a }}",
    "{% set a = 'x' * 8000 %}{{ a + a }}",
    "{{ title|replace('', 'x' * 1000) }}",
    "{{ title.ljust(100000000) }}",
    "{{ title|center(100000000) }}",
    "{{ title|indent(100000000) }}",
    "{{ '{:>100000000}'.format(1) }}",
    "{{ lipsum(1000000) }}",
]


@pytest.mark.parametrize("payload", INJECTIONS)
def test_injection_payloads_are_refused(payload: str) -> None:
    with pytest.raises(TemplateError):
        check("entry", payload)


def test_nothing_dangerous_is_reachable_through_an_allowed_construct() -> None:
    # attributes that look up to nothing are refused when printed, not silently empty
    with pytest.raises(TemplateError, match="not allowed"):
        render("{{ (sections|first).__class__ }}", "entry", sample_fields("entry"), PLAIN)
    # a filter reaching for an attribute gets nothing it could use
    out = render("{{ sections|map(attribute='__class__')|list }}", "entry", SAMPLE, PLAIN)
    assert "class" not in out


SAMPLE: dict[str, Any] = sample_fields("entry")


def test_unknown_fields_and_syntax_errors_are_named() -> None:
    with pytest.raises(TemplateError, match=r"Unknown field 'headline'.*title, outlet"):
        check("entry", "{{ headline }}")
    with pytest.raises(TemplateError, match="Unknown field 'summary' in the header template"):
        check("header", "{{ summary }}")
    with pytest.raises(TemplateError, match="syntax error on line 2"):
        check("entry", "{{ title }}\n{% if teaser %}")
    with pytest.raises(TemplateError, match="does not exist"):  # a misspelt attribute
        check("entry", "{% for s in sections %}{{ s.headng }}{% endfor %}")
    with pytest.raises(TemplateError, match="header or an entry"):
        check("footer", "{{ title }}")


def test_every_documented_field_renders() -> None:
    entry = (
        "{{ number }}. {{ title }} — {{ outlet }} ({{ also_outlets|join(', ') }}) {{ url }} "
        "{{ published }} {{ language }} {{ teaser }}\n"
        "{% for b in summary %}• {{ b }}\n{% endfor %}"
        "{% for s in sections %}{{ s.heading }} [{{ s.id }}]: {{ s.bullets|length }}\n{% endfor %}"
    )
    out = render(entry, "entry", SAMPLE, PLAIN)
    assert out.startswith("1. Council approves the new bridge")
    assert "(Daily Example, Example Times) https://news.example.com/bridge?id=1&x=2" in out
    assert "2025-05-01 07:30 en teaser only" in out
    assert "• Building starts in March" in out and "Cost [cost]: 1" in out
    header = "{{ title }}: {{ count_text }} ({{ count }}) — {{ articles|map(attribute='outlet')|join(', ') }}"
    assert render(header, "header", sample_fields("header"), PLAIN) == (
        "News digest — 2025-05-01: 2 new articles (2) — Example Gazette, Example Gazette"
    )


def test_fields_come_from_the_digest_and_its_other_outlets() -> None:
    fields = entry_fields(sample_digest(), ["Daily Example"], 3)
    assert fields["number"] == 3 and fields["also_outlets"] == ["Daily Example"]
    assert fields["published"] == "2025-05-01 07:30"
    assert fields["teaser"] == "teaser only: the page could not be read"
    assert fields["sections"][0] == {
        "heading": "Cost",
        "id": "cost",
        "bullets": ["It will cost $40m, mostly from the state."],
    }


BRACKETS = Dialect(
    "Test",
    escape=lambda text: text.replace("<", "‹").replace(">", "›"),
    link=lambda url, label: f"<{url}|{label.replace('<', '‹').replace('>', '›')}>",
    defuse=lambda text: text.replace("<!", "‹!"),
)


def test_values_are_escaped_but_the_admins_text_and_links_are_not() -> None:
    out = render("*{{ title }}* {{ link(url, title) }} <!here>", "entry", SAMPLE, BRACKETS)
    assert out.startswith("*Council approves the new bridge ‹after› a 7-2 vote")
    assert "<https://news.example.com/bridge?id=1&x=2|Council approves" in out
    assert out.endswith("‹!here>")  # the admin's own text is defused of broadcasts
    # a value made to look like a link is escaped: only link() writes markup
    assert "‹" in render("{{ link(url, title)|upper }}", "entry", SAMPLE, BRACKETS)
    assert "‹" in render("{{ title|string }}", "entry", SAMPLE, BRACKETS)


def test_output_is_bounded() -> None:
    big = "{% for i in range(1000) %}{{ 'y' * 100 }}{% endfor %}"
    with pytest.raises(TemplateError, match=f"longer than {MAX_OUTPUT}"):
        render(big, "entry", SAMPLE, PLAIN)


def test_render_part_fits_output_when_posting_and_refuses_it_when_checking() -> None:
    long = Templates(entry="{% for b in summary %}{{ b }}\n{% endfor %}")
    assert render_part(long, "entry", SAMPLE, PLAIN, 80, lines=True) == SAMPLE["summary"][0]
    strict = Templates(entry=long.entry, strict=True)
    with pytest.raises(TemplateError, match="Test allows 80 there"):
        render_part(strict, "entry", SAMPLE, Dialect("Test"), 80)
    assert render_part(None, "entry", SAMPLE, PLAIN, 80) is None
    assert render_part(Templates(header="x"), "entry", SAMPLE, PLAIN, 80) is None


def test_a_template_failing_at_posting_time_gives_the_default(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # valid on the sample, but this article has no sections: the default is used, and logged
    failing = Templates(entry="{{ sections[0].heading }}")
    fields = dict(SAMPLE, sections=[])
    assert render_part(failing, "entry", fields, PLAIN, 1000) is None
    assert "the entry template failed" in caplog.text
    with pytest.raises(TemplateError):
        render_part(Templates(entry=failing.entry, strict=True), "entry", fields, PLAIN, 1000)


def test_the_defaults_are_valid_templates() -> None:
    for templates in DEFAULTS.values():
        check("header", templates.header or "")
        check("entry", templates.entry or "")


def test_templates_round_trip_through_a_delivery_plan() -> None:
    templates = Templates(header="{{ title }}!", entry=None)
    assert Templates.from_plan(templates.as_plan()) == templates
    assert Templates.from_plan({"header": None, "entry": None}) is None
    assert Templates.from_plan(None) is None


def test_a_channels_own_templates_render_off_the_event_loop() -> None:
    """The built-in rendering stays in place (microseconds); a channel's own template, bounded
    but possibly slow, runs on a worker thread so that it never stalls other channels."""
    import asyncio
    import threading

    from adapters.slack.poster import SlackPoster, make_client
    from bot.delivery.engine import render_off_loop
    from bot.delivery.poster import ChannelDigest
    from bot.store.repo import ChannelInfo

    threads: list[int] = []

    class WherePoster(SlackPoster):
        def render(self, digest: ChannelDigest) -> Any:
            threads.append(threading.get_ident())
            return super().render(digest)

    poster = WherePoster(make_client("xoxb-test", "http://127.0.0.1:9/api/"))
    from datetime import UTC, datetime

    channel = ChannelInfo(
        1, "slack", "C1", None, "UTC", False, None, datetime(2024, 5, 1, tzinfo=UTC)
    )
    plain = ChannelDigest(channel, "now-2024-05-01T08:00:00", "Digest", (sample_digest(),))
    own = ChannelDigest(
        channel,
        "now-2024-05-01T08:00:00",
        "Digest",
        (sample_digest(),),
        templates=Templates(None, "* {{ title }}"),
    )

    async def main() -> tuple[int, list[Any], list[Any]]:
        return (
            threading.get_ident(),
            list(await render_off_loop(poster, plain)),
            list(await render_off_loop(poster, own)),
        )

    loop_thread, built_in, custom = asyncio.run(main())
    assert threads[0] == loop_thread and threads[1] != loop_thread
    assert built_in and custom and custom != built_in  # the template was applied there
