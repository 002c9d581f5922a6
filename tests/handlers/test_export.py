"""/export is shared: queries by default, milestones with an argument; secretariat and experts only."""
from __future__ import annotations

from tests.util import GUEST, SECRETARIAT, one_text


async def test_export_milestones_sends_the_checklist_csv(env):
    calls = await env.send("/export milestones", user_id=SECRETARIAT)
    docs = [c for c in calls if c.method == "sendDocument"]
    assert docs, [c.method for c in calls]
    name, content, _mime = next(iter(docs[0].files.values()))
    assert name.startswith("ldn-milestones") and name.endswith(".csv")
    header = content.decode("utf-8-sig").splitlines()[0]
    assert header.startswith("iso3,country,step,status")


async def test_export_queries_by_default(env):
    calls = await env.send("/export", user_id=SECRETARIAT)
    docs = [c for c in calls if c.method == "sendDocument"]
    assert docs and next(iter(docs[0].files.values()))[0].endswith(".csv")


async def test_export_is_refused_to_others(env):
    for text in ("/export", "/export milestones"):
        calls = await env.send(text, user_id=GUEST)
        assert not [c for c in calls if c.method == "sendDocument"]
        assert one_text(calls)
