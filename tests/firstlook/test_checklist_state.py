"""/checklist: a step under way that is late says both, in every language."""
from __future__ import annotations

import pytest

from tests.util import FOCAL_KEN, one_text

IN_PROGRESS_LATE = {
    "en": "in progress, overdue since 2016-10-31",
    "fr": "en cours, en retard depuis le 2016-10-31",
    "es": "en curso, atrasado desde 2016-10-31",
    "ru": "в работе, просрочен с 2016-10-31",
    "ar": "قيد التنفيذ، متأخرة منذ 2016-10-31",
    "zh": "进行中，自 2016-10-31 起逾期",
}


@pytest.mark.parametrize("lang", sorted(IN_PROGRESS_LATE))
async def test_an_overdue_step_in_progress_shows_its_state_in_the_list(env, lang):
    await env.make_focal_point(FOCAL_KEN, "KEN")
    env.clock.set("2017-02-01T08:00:00Z")
    await env.send(f"/language {lang}", user_id=FOCAL_KEN, language_code=lang)
    await env.press("v1:ms:set:KEN:working_group:in_progress", user_id=FOCAL_KEN, language_code=lang)
    text = one_text(await env.send("/checklist", user_id=FOCAL_KEN, language_code=lang))
    line = next(row for row in text.splitlines() if row.startswith("🔄⚠️ 1."))
    assert IN_PROGRESS_LATE[lang] in line
    # the step not started keeps the plain overdue mark
    assert any(row.startswith("⚠️ 2.") for row in text.splitlines())
    calls = await env.send("/checklist", user_id=FOCAL_KEN, language_code=lang)
    labels = [b["text"] for c in calls for b in c.buttons]
    assert labels[0].startswith("🔄⚠️ 1.") and labels[1].startswith("⚠️ 2.")


async def test_days_overdue_take_the_plural_of_the_language(env):
    await env.make_focal_point(FOCAL_KEN, "KEN")
    env.clock.set("2016-11-01T08:00:00Z")  # one day after 31 October
    text = one_text(await env.press("v1:ms:step:KEN:working_group", user_id=FOCAL_KEN))
    assert "Overdue</b> by 1 day\n" in text + "\n"
    await env.send("/language ru", user_id=FOCAL_KEN, language_code="ru")
    env.clock.set("2016-11-03T08:00:00Z")
    text = one_text(await env.press("v1:ms:step:KEN:working_group", user_id=FOCAL_KEN, language_code="ru"))
    assert "на 3 дня" in text
