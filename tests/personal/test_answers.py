"""Answers that know who is asking, through the real Application: the same FAQ entry answers a
bound focal point with their country's facts and a visitor with everyone's, in six languages."""
from __future__ import annotations

import html

import pytest

from tests.util import FOCAL_FRA_SPEAKER, FOCAL_KEN, GUEST
from tests.util import one_text as sent_text

CHN_FOCAL = 503
CHL_FOCAL = 504


def one_text(calls) -> str:
    return html.unescape(sent_text(calls))


def answer(calls):
    return [c for c in calls if c.method == "sendMessage"][-1]


async def test_kenya_gets_konya_and_senegal_gets_the_pilot_workshop(env):
    await env.make_focal_point(FOCAL_KEN, "KEN")
    await env.make_focal_point(FOCAL_FRA_SPEAKER, "SEN")
    kenya = one_text(await env.send("which workshop is my country in?", user_id=FOCAL_KEN, language_code="en"))
    assert "Kenya was invited to the regional inception workshop in Konya, Turkey, 28–30 May 2016" in kenya
    assert "Africa/Nairobi" in kenya and "Batumi" not in kenya and "{" not in kenya
    senegal = one_text(await env.send("quel est l'atelier de mon pays ?", user_id=FOCAL_FRA_SPEAKER, language_code="fr"))
    assert "Sénégal a participé au projet pilote" in senegal and "Nairobi (Kenya)" in senegal
    assert "18–20 octobre 2016" in senegal and "Konya (Turquie), 28–30 mai 2016" in senegal  # its annex's workshop too


@pytest.mark.parametrize("lang,question,expected", [
    ("en", "which workshop is my country in?", "Konya"),
    ("fr", "quel est l'atelier de mon pays ?", "Konya"),
    ("es", "¿cuál es el taller de mi país?", "Konya"),
    ("ru", "какой семинар у моей страны?", "Конья"),
    ("ar", "ما هي حلقة العمل الخاصة ببلدي؟", "قونية"),
    ("zh", "我国属于哪个讲习班？", "科尼亚"),
])
async def test_workshop_answer_is_personal_in_every_language(env, lang, question, expected):
    await env.make_focal_point(FOCAL_KEN, "KEN")
    await env.press(f"v1:lang:{lang}", user_id=FOCAL_KEN)
    text = one_text(await env.send(question, user_id=FOCAL_KEN))
    assert expected in text and "{" not in text
    assert "Bangkok" not in text and "Batumi" not in text and "巴统" not in text


async def test_a_pilot_country_of_latin_america_and_china_get_their_own(env):
    await env.make_focal_point(CHL_FOCAL, "CHL")
    await env.make_focal_point(CHN_FOCAL, "CHN")
    chile = one_text(await env.send("¿cuál es el taller de mi país?", user_id=CHL_FOCAL, language_code="es"))
    assert "Chile participó en el proyecto piloto" in chile and "Buenos Aires (Argentina)" in chile
    china = one_text(await env.send("我国属于哪个讲习班？", user_id=CHN_FOCAL, language_code="zh"))
    assert "中国受邀参加在泰国曼谷举行的区域启动讲习班" in china and "2016年7月12日至13日" in china


async def test_a_visitor_gets_every_workshop_and_country_buttons(env):
    msg = answer(await env.send("which workshop is my country in?", user_id=GUEST, language_code="en"))
    for place in ("Konya, Turkey", "Batumi, Georgia", "Bangkok, Thailand", "Buenos Aires, Argentina", "Nairobi, Kenya"):
        assert place in msg.text
    regions = [b["callback_data"] for b in msg.buttons if b.get("callback_data", "").startswith("v1:me:rg:")]
    assert "v1:me:rg:my-workshop:konya" in regions and "v1:me:rg:my-workshop:pilots" in regions
    calls = await env.press("v1:me:rg:my-workshop:konya", user_id=GUEST)
    countries = [b["callback_data"] for c in calls for b in (c.buttons or []) if "callback_data" in b]
    assert "v1:me:ct:my-workshop:KEN" in countries and "v1:me:ct:my-workshop:SEN" not in countries
    text = one_text(await env.press("v1:me:ct:my-workshop:KEN", user_id=GUEST))
    assert "Kenya was invited to the regional inception workshop in Konya" in text


async def test_deadline_follows_the_calendar_in_the_askers_time_zone(env):
    await env.make_focal_point(FOCAL_KEN, "KEN")
    text = one_text(await env.send("when is our deadline?", user_id=FOCAL_KEN, language_code="en"))
    # 31 March 2018 23:59 UTC is 1 April 02:59 in Nairobi
    assert "1 April 2018, 02:59 Africa/Nairobi time" in text
    visitor = one_text(await env.send("when is our deadline?", user_id=GUEST, language_code="en"))
    assert "31 March 2018, 23:59 UTC time" in visitor


async def test_next_step_and_where_we_stand_follow_the_checklist(env):
    from bot.milestones import get_template, set_status

    await env.make_focal_point(FOCAL_KEN, "KEN")
    text = one_text(await env.send("what is our next step?", user_id=FOCAL_KEN, language_code="en"))
    assert "National LDN working group established" in text and "31 October 2016" in text
    assert "Kenya has done 0 of" in text
    template = get_template(env.services)
    await env.services.store.run(set_status, template, env.services.countries, "KEN", "working_group", "done",
                                 by=FOCAL_KEN, via="test", now=env.clock.now())
    text = one_text(await env.send("what is our next step?", user_id=FOCAL_KEN))
    assert "LDN leverage opportunities identified" in text and "Kenya has done 1 of" in text
    stand = one_text(await env.send("où en sommes-nous ?", user_id=FOCAL_KEN))
    assert "Africa (35" not in stand and "focal points of Africa" in stand  # English user: English answer
    visitor = one_text(await env.send("where do we stand?", user_id=GUEST))
    assert "Kenya" not in visitor and "registered focal point sees" in visitor


async def test_the_rendered_answer_cache_keys_on_the_resolved_text(env):
    """Two askers, one question, one cache: each gets their own country."""
    await env.make_focal_point(FOCAL_KEN, "KEN")
    await env.make_focal_point(FOCAL_FRA_SPEAKER, "SEN")
    first = one_text(await env.send("which workshop is my country in?", user_id=FOCAL_KEN, language_code="en"))
    second = one_text(await env.send("which workshop is my country in?", user_id=FOCAL_FRA_SPEAKER, language_code="en"))
    again = one_text(await env.send("which workshop is my country in?", user_id=FOCAL_KEN))
    assert "Kenya" in first and "Senegal" in second and "Kenya was invited" not in second and again == first
