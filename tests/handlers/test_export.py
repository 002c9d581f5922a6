"""/export is shared: queries by default, milestones with an argument; secretariat and experts only."""
from __future__ import annotations

import csv
import io

from tests.helpdesk.util import Helpdesk
from tests.util import EXPERT, FOCAL_KEN, GUEST, SECRETARIAT, one_text

QUERY_COLUMNS = [
    "id", "created_at", "country", "lang", "source", "state", "priority", "tags", "assignee_id", "asker_id",
    "first_response_at", "resolved_at", "closed_at", "first_response_hours", "resolution_hours", "overdue",
    "rating", "rating_comment", "attachments", "question", "answers",
]
MILESTONE_COLUMNS = ["iso3", "country", "step", "status", "date", "note", "evidence", "due", "changed_by", "changed_at"]


def document(calls) -> tuple[str, list[str], list[dict], str]:
    """The one CSV document sent: file name, header, rows (as dicts) and caption."""
    docs = [c for c in calls if c.method == "sendDocument"]
    assert len(docs) == 1, [c.method for c in calls]
    name, content, _mime = next(iter(docs[0].files.values()))
    text = content.decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(text)))
    return name, header, list(csv.DictReader(io.StringIO(text))), docs[0].params.get("caption", "")


async def test_export_milestones_sends_every_country_and_step(env):
    await env.send("/due KEN baseline 2017-03-31", user_id=SECRETARIAT)
    name, header, rows, caption = document(await env.send("/export milestones", user_id=SECRETARIAT))
    assert name == "ldn-milestones-2016-05-20.csv"
    assert header == MILESTONE_COLUMNS
    assert len(rows) == 95 * 10 and len({r["iso3"] for r in rows}) == 95
    assert len({(r["iso3"], r["step"]) for r in rows}) == len(rows)
    ken = {r["step"]: r for r in rows if r["iso3"] == "KEN"}
    assert ken["baseline"]["country"] == "Kenya" and ken["baseline"]["due"] == "2017-03-31"
    assert ken["working_group"]["due"] != "2017-03-31"
    assert "95 countries × 10 steps" in caption and "2016-05-20" in caption


async def test_export_queries_has_one_row_per_query_with_its_answer(env):
    hd = Helpdesk(env)
    await env.make_focal_point(FOCAL_KEN, "KEN")
    await hd.ask("Which soil organic carbon data should we use for the baseline?")
    first = hd.last_query_id()
    env.clock.advance(hours=2, minutes=30)
    await hd.expert_reply(first, "Use the national map where it covers 0-30 cm.")
    env.clock.advance(days=10)
    await hd.ask("When is the validation workshop?")
    second = hd.last_query_id()

    name, header, rows, caption = document(await env.send("/export", user_id=SECRETARIAT))
    assert name == "ldn-helpdesk-queries-20160530.csv"
    assert header == QUERY_COLUMNS
    assert [int(r["id"]) for r in rows] == [first, second]
    answered, later = rows
    assert answered["country"] == "KEN" and answered["asker_id"] == str(FOCAL_KEN) and answered["source"] == "ask"
    assert answered["question"] == "Which soil organic carbon data should we use for the baseline?"
    assert answered["answers"] == "Use the national map where it covers 0-30 cm."
    assert answered["first_response_at"] == "2016-05-20T10:30:00Z" and answered["first_response_hours"] == "2.50"
    assert later["question"] == "When is the validation workshop?" and later["answers"] == ""
    assert later["first_response_at"] == "" and later["state"] == "new"
    assert caption == env.services.t("en", "hd.export_caption", count=2)

    # an expert may export too; a date keeps the queries created since then
    _name, _header, rows, caption = document(await env.send("/export 2016-05-25", user_id=EXPERT))
    assert [int(r["id"]) for r in rows] == [second]
    assert caption == env.services.t("en", "hd.export_caption", count=1)


async def test_export_with_a_bad_date_explains_the_usage(env):
    calls = await env.send("/export someday", user_id=SECRETARIAT)
    assert not [c for c in calls if c.method == "sendDocument"]
    assert one_text(calls) == env.services.t("en", "hd.export_usage")


async def test_export_is_refused_to_others(env):
    refusal = env.services.t("en", "error.not_allowed")
    for text in ("/export", "/export milestones"):
        calls = await env.send(text, user_id=GUEST)
        assert not [c for c in calls if c.method == "sendDocument"]
        assert one_text(calls) == refusal
    await env.make_focal_point(FOCAL_KEN, "KEN")
    calls = await env.send("/export", user_id=FOCAL_KEN)
    assert not [c for c in calls if c.method == "sendDocument"] and one_text(calls) == refusal
