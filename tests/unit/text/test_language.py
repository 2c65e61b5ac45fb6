"""An article's language: what the source declares when the text agrees, else the text's."""

from __future__ import annotations

import pytest

from bot.text.language import article_language, detect, normalize_tag

GERMAN = (
    "Der Bundestag hat am Donnerstag ein neues Gesetz beschlossen. Die Regierung will damit die "
    "Mieten in den großen Städten begrenzen, die in den letzten Jahren stark gestiegen sind."
)


@pytest.mark.parametrize(
    "tag, normal",
    [
        ("en_US", "en-US"),
        ("pt-br", "pt-BR"),
        ("zh-Hans-CN", "zh-CN"),
        ("DE", "de"),
        ("iw", "he"),
        ("x-default", None),
        ("", None),
        ("und", None),
    ],
)
def test_declared_tags_become_bcp47(tag: str, normal: str | None) -> None:
    assert normalize_tag(tag) == normal


def test_the_text_overrules_a_wrong_declaration_and_keeps_a_right_region() -> None:
    assert article_language(GERMAN, "en") == "de"  # a template's lang="en" on a German page
    assert article_language(GERMAN, "de-AT") == "de-AT"
    assert article_language(GERMAN, None) == "de"
    assert article_language("Ja.", "fr") == "fr"  # too short to contradict anyone


@pytest.mark.parametrize(
    "text, language",
    [
        ("国家统计局周三公布的数据显示，今年一季度国内生产总值同比增长。", "zh"),
        ("市は２日、老朽化した市立図書館の新館を来年４月に開館すると発表した。", "ja"),
        ("Le gouvernement a présenté mercredi un projet de loi sur les retraites.", "fr"),
        ("El Gobierno aprobó el martes una nueva ley de vivienda para los jóvenes.", "es"),
        ("Правительство одобрило новый закон о жилье для молодых семей.", "ru"),
        ("أعلنت وزارة الصحة تسجيل إصابات جديدة في عدة مدن.", "ar"),
    ],
)
def test_the_text_tells_its_language(text: str, language: str) -> None:
    assert detect(text)[0] == language
