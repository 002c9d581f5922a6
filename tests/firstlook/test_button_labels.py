"""Every button label is cut at a word boundary with "…", within Telegram's limits, in every
script (characters that render are counted: an Arabic vowel sign or ⚠️'s selector is no extra)."""
from __future__ import annotations

import unicodedata

import pytest

from handlers.common import BUTTON_LABEL_MAX, _clusters, clip
from knowledge.vocabulary import LANGS
from tests.util import FOCAL_KEN, GUEST


@pytest.mark.parametrize("text", [
    "❓ What is the difference between the baseline and the monitoring period, and why 2000–2015?",
    "❓ هل يمكن استخدام البيانات الوطنية بدلاً من البيانات الافتراضية خارج الأراضي الزراعية",
    "❓ Как согласовать данные по умолчанию о почвенном органическом углероде с национальной картой почв?",
])
def test_cut_at_a_word(text):
    cut = clip(text)
    assert cut.endswith("…") and len(_clusters(cut)) <= BUTTON_LABEL_MAX
    kept = cut[:-1]
    assert text.startswith(kept) and text[len(kept)] == " "  # the next character was a space: a whole word


def test_scripts_without_spaces_and_combining_marks():
    chinese = "❓ " + "为什么基线期是二零零零年至二零一五年" * 4
    cut = clip(chinese)
    assert cut.endswith("…") and len(_clusters(cut)) == BUTTON_LABEL_MAX
    vowelled = "مُؤَشِّرٌ " * 14  # every letter carries a vowel sign: counted once
    cut = clip(vowelled)
    assert len(_clusters(cut)) <= BUTTON_LABEL_MAX and cut.endswith("ٌ…")  # a whole word, its marks kept
    assert unicodedata.category(cut[-2]) == "Mn"
    assert clip("short") == "short"


@pytest.mark.parametrize("lang", LANGS)
async def test_related_questions_and_checklist_buttons_in_every_language(env, lang):
    await env.make_focal_point(FOCAL_KEN, "KEN")
    labels = []
    for question in ("What is land degradation neutrality?", "How do we set the LDN baseline?"):
        calls = await env.send(question, user_id=GUEST, language_code=lang)
        labels += [b["text"] for c in calls for b in c.buttons]
    await env.press(f"v1:lang:{lang}", user_id=FOCAL_KEN)
    calls = await env.send("/checklist", user_id=FOCAL_KEN, language_code=lang)
    labels += [b["text"] for c in calls for b in c.buttons]
    assert len(labels) > 10
    for label in labels:
        assert len(_clusters(label)) <= BUTTON_LABEL_MAX, label
        assert not label.endswith((" …", "…" + "…"))
