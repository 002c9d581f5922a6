"""Long lists summarise first (issue #20): /overdue, /progress, /queue and /gaps open with the counts
and the worst cases, then one page of rows with ◀️ n/N ▶️ buttons, in ONE message within Telegram's
limit; the page buttons move; a forged or stale page button gets a translated "send /… again"; a
user the list is not for who presses one is refused and sees nothing of it."""
from __future__ import annotations

import pytest

from handlers.helpdesk.tick import helpdesk_tick
from tests.util import EXPERT, FOCAL_FRA_SPEAKER, FOCAL_KEN, GUEST, SECRETARIAT, texts

TELEGRAM_LIMIT = 4096
LANGS = ("en", "fr", "ar")  # a Latin, another Latin and a right-to-left script


def sent_messages(calls):
    return [c for c in calls if c.method == "sendMessage"]


def datas(calls) -> list[str]:
    return [b["callback_data"] for c in calls for b in c.buttons if "callback_data" in b]


def alert(calls) -> str:
    answers = [c for c in calls if c.method == "answerCallbackQuery"]
    assert answers, [c.method for c in calls]
    return str(answers[-1].params.get("text") or "")


async def speak(env, user_id, lang):
    await env.press(f"v1:lang:{lang}", user_id=user_id)


async def first_screen(env, command, user_id, lang):
    """The one message a command answers with (asserted: one, within the limit)."""
    calls = await env.send(command, user_id=user_id, language_code=lang)
    messages = sent_messages(calls)
    assert len(messages) == 1, [m.text[:80] for m in messages]
    assert len(messages[0].text) < TELEGRAM_LIMIT
    return messages[0].text, calls


async def refused_everywhere(env, lang, command, forged: list[str], good: str, outsider: int):
    t = env.services.t
    for data in forged:
        calls = await env.press(data, user_id=SECRETARIAT if outsider != SECRETARIAT else EXPERT, language_code=lang)
        assert not texts(calls), data
        assert alert(calls) == t(lang, "paging.stale", command=command), data
    calls = await env.press(good, user_id=outsider)
    assert not texts(calls) and alert(calls) == t("en", "error.not_allowed")


@pytest.mark.parametrize("lang", LANGS)
async def test_overdue_counts_then_pages(env, lang):
    t = env.services.t
    env.clock.set("2017-03-10T08:00:00Z")  # three steps late in all 95 countries
    await speak(env, SECRETARIAT, lang)
    text, calls = await first_screen(env, "/overdue", SECRETARIAT, lang)
    head = text.split("\n\n")[0]
    assert t(lang, "ms.overdue.by_step") in head and "95" in head and "285" in head  # the counts come first
    assert t(lang, "ms.overdue.page", page=1, pages=12) in text
    assert datas(calls) == ["v1:ms:od:all:0", "v1:ms:od:all:1"]
    calls = await env.press("v1:ms:od:all:1", user_id=SECRETARIAT)
    moved = texts(calls)[0]
    assert t(lang, "ms.overdue.page", page=2, pages=12) in moved and moved.split("\n\n")[0] == head
    assert datas(calls) == ["v1:ms:od:all:0", "v1:ms:od:all:1", "v1:ms:od:all:2"]
    assert [b["text"] for c in calls for b in c.buttons] == [t(lang, "paging.prev"), "2/12", t(lang, "paging.next")]
    await refused_everywhere(env, lang, "/overdue", ["v1:ms:od:all:x", "v1:ms:od:all:²", "v1:ms:od:atlantis:0",
                                                     "v1:ms:od:all", "v1:ms:od:all:123456"],
                             "v1:ms:od:all:1", GUEST)


async def test_overdue_of_a_typed_region_pages_by_its_own_name(env):
    env.clock.set("2017-03-10T08:00:00Z")
    text, calls = await first_screen(env, "/overdue Latin America", SECRETARIAT, "en")
    assert "in 20 countries" in text and datas(calls) == ["v1:ms:od:III:0", "v1:ms:od:III:1"]
    text, calls = await first_screen(env, "/overdue europe", SECRETARIAT, "en")
    assert "in 16 countries" in text and datas(calls)[0] == "v1:ms:od:europe:0"
    assert "in 16 countries" in texts(await env.press("v1:ms:od:europe:1", user_id=SECRETARIAT))[0]


@pytest.mark.parametrize("lang", LANGS)
async def test_progress_counts_by_region_then_least_advanced_pages(env, lang):
    t = env.services.t
    await env.make_focal_point(FOCAL_KEN, "KEN")
    env.clock.set("2017-01-10T09:00:00Z")
    for step in ("working_group", "leverage_plan"):
        await env.press(f"v1:ms:set:KEN:{step}:done", user_id=FOCAL_KEN)
    await speak(env, SECRETARIAT, lang)
    text, calls = await first_screen(env, "/progress", SECRETARIAT, lang)
    assert t(lang, "ms.progress.legend") in text
    assert text.index(t(lang, "ms.progress.legend")) < text.index(t(lang, "ms.progress.least_first"))
    rows = text.split(t(lang, "ms.progress.least_first"))[1]
    assert "0/10" in rows and "<b>KEN</b>" not in rows  # the least advanced first; Kenya has begun
    assert t(lang, "ms.progress.page", page=1, pages=8) in text
    pages = [d for d in datas(calls) if d.startswith("v1:ms:pp:")]
    assert pages == ["v1:ms:pp:all:0", "v1:ms:pp:all:1"]
    assert "v1:ms:chart" in datas(calls) and "v1:ms:prog:I" in datas(calls)  # the overview's own buttons stay
    calls = await env.press("v1:ms:pp:all:7", user_id=SECRETARIAT)  # the last page: the most advanced
    last = texts(calls)[0]
    rows = last.split(t(lang, "ms.progress.least_first"))[1].split("\n\n")[0].strip().splitlines()
    assert t(lang, "ms.progress.page", page=8, pages=8) in last and len(rows) == 11 and "<b>KEN</b>" in rows[-1]
    await refused_everywhere(env, lang, "/progress", ["v1:ms:pp:all:-1", "v1:ms:pp:atlantis:0", "v1:ms:pp:all"],
                             "v1:ms:pp:all:1", FOCAL_KEN)


async def queries(env, n_each: int) -> None:
    for user, iso3 in ((FOCAL_KEN, "KEN"), (FOCAL_FRA_SPEAKER, "SEN"), (503, "MAR")):
        await env.make_focal_point(user, iso3)
        for i in range(n_each):
            await env.send(f"/ask Question {i} of {iso3} about the land productivity baseline", user_id=user)
            env.app.user_data[user].pop("awaiting", None)


@pytest.mark.parametrize("lang", LANGS)
async def test_queue_counts_overdue_first_then_pages(env, lang):
    t = env.services.t
    await queries(env, 4)
    env.clock.advance(days=10)
    await helpdesk_tick(env.app)  # ten days without an answer: overdue
    await queries(env, 3)
    await speak(env, EXPERT, lang)
    await env.send("/priority 2 urgent", user_id=EXPERT)
    text, calls = await first_screen(env, "/queue", EXPERT, lang)
    lines = text.splitlines()
    assert lines[0].endswith("21")
    overdue = t(lang, "hd.queue_overdue", overdue=12, queries="#1 KEN").split("#1")[0]
    assert lines[1].startswith(overdue) and "#1 KEN" in lines[1]  # overdue first, the oldest named
    assert any(t(lang, "hd.priority.urgent") + " 1" in line for line in lines[2:4])
    assert t(lang, "hd.queue_page", page=1, pages=3) in text
    nav = [d for d in datas(calls) if d.startswith("v1:hd:qp:")]
    assert nav == ["v1:hd:qp:1:active:-:-", "v1:hd:qp:2:active:-:-"]
    calls = await env.press(nav[1], user_id=EXPERT)
    assert t(lang, "hd.queue_page", page=2, pages=3) in texts(calls)[0]
    calls = await env.press("v1:hd:qp:9:active:-:-", user_id=EXPERT)  # past the end: the last page
    assert t(lang, "hd.queue_page", page=3, pages=3) in texts(calls)[0]
    for data in ("v1:hd:qp:x:active:-:-", "v1:hd:qp:2:everything:-:-", "v1:hd:qp:2"):
        calls = await env.press(data, user_id=EXPERT)
        assert not texts(calls) and alert(calls) == t(lang, "paging.stale", command="/queue"), data
    calls = await env.press(nav[1], user_id=FOCAL_KEN)
    assert not texts(calls) and alert(calls) == t("en", "error.not_allowed")


@pytest.mark.parametrize("lang", LANGS)
async def test_gaps_count_the_month_then_most_asked_pages(env, lang):
    t = env.services.t
    env.clock.set("2016-05-03T08:00:00Z")
    await env.send("bitcoin price in April", user_id=GUEST)  # the month before: not counted
    env.clock.set("2016-06-02T08:00:00Z")
    for i in range(14):
        await env.send(f"zorblax quantum widget number {i}", user_id=GUEST)
    for _ in range(3):
        await env.send("Where is the nearest pizza?", user_id=GUEST + 1)
    await speak(env, SECRETARIAT, lang)
    text, calls = await first_screen(env, "/gaps", SECRETARIAT, lang)
    assert text.startswith(t(lang, "faq.gaps_title", date="2016-06-01"))
    assert t(lang, "faq.gaps_counts", misses=17, questions=15, not_helpful=0, langs="en 17") in text
    rows = text.split(t(lang, "faq.gaps_most_asked"))[1].strip().splitlines()
    assert rows[0].startswith("• ×3") and "pizza" in rows[0] and "April" not in text  # the most asked first
    assert t(lang, "paging.page", page=1, pages=2) in text
    assert datas(calls) == ["v1:faq:gaps:0", "v1:faq:gaps:1"]
    calls = await env.press("v1:faq:gaps:1", user_id=SECRETARIAT)
    assert t(lang, "paging.page", page=2, pages=2) in texts(calls)[0]
    await refused_everywhere(env, lang, "/gaps", ["v1:faq:gaps:x", "v1:faq:gaps", "v1:faq:gaps:1:2"],
                             "v1:faq:gaps:1", GUEST)


async def test_gaps_of_a_quiet_month(env):
    env.clock.set("2016-05-03T08:00:00Z")
    await env.send("bitcoin price in April", user_id=GUEST)
    env.clock.set("2016-06-02T08:00:00Z")
    text, calls = await first_screen(env, "/gaps", SECRETARIAT, "en")
    assert text == env.services.t("en", "faq.gaps_none_month", date="2016-06-01") and not datas(calls)


async def test_query_card_without_faq_answers_has_no_empty_heading(env):
    from tests.util import EXPERT_CHAT

    await env.make_focal_point(FOCAL_KEN, "KEN")
    heading = env.services.t("en", "hd.card_candidates", items="").strip()
    calls = await env.send("/ask zzqx blorft wibble", user_id=FOCAL_KEN)
    card = texts(calls, EXPERT_CHAT)[0]
    assert "zzqx blorft wibble" in card and heading not in card
    qid = env.db.execute("SELECT max(id) FROM queries").fetchone()[0]
    for stored in ('[""]', '["  "]', '"soc-data"', "{}", "null"):  # what an older version or a bad import may have left
        env.db.execute("UPDATE queries SET candidates = ? WHERE id = ?", [stored, qid])
        view = texts(await env.send(f"/query {qid}", user_id=EXPERT), EXPERT)[0]
        assert "zzqx blorft wibble" in view and heading not in view, stored
    env.db.execute("UPDATE queries SET candidates = ? WHERE id = ?", ['["soc-data"]', qid])
    view = texts(await env.send(f"/query {qid}", user_id=EXPERT), EXPERT)[0]
    assert heading in view and "soc-data" in view


async def test_progress_of_a_circle_counts_each_of_its_regions(env):
    t = env.services.t
    text, calls = await first_screen(env, "/progress pilots", SECRETARIAT, "en")
    counts = [line for line in text.splitlines() if "✅" in line and "⬜" in line and "(" in line and "<b>" in line]
    assert len(counts) == 5 and sum(int(line.split("⬜ ")[1].split(" ")[0]) for line in counts) == 14
    assert t("en", "ms.progress.page", page=1, pages=2) in text
    assert [d for d in datas(calls) if d.startswith("v1:ms:pp:")] == ["v1:ms:pp:pilots:0", "v1:ms:pp:pilots:1"]


async def test_gaps_count_one_question_typed_in_many_ways(env):
    env.clock.set("2016-06-02T08:00:00Z")
    for i, text in enumerate(("Какая погода в Найроби?", "какая  погода в найроби", "КАКАЯ ПОГОДА В НАЙРОБИ ?!", "bitcoin")):
        await env.send(text, user_id=GUEST + i, language_code="ru")
    text, _ = await first_screen(env, "/gaps", SECRETARIAT, "en")
    rows = text.split(env.services.t("en", "faq.gaps_most_asked"))[1].strip().splitlines()
    assert rows[0].startswith("• ×3 [ru") and rows[0].endswith("КАКАЯ ПОГОДА В НАЙРОБИ ?!")  # the latest wording
    assert "×" not in rows[1] and "bitcoin" in rows[1]
