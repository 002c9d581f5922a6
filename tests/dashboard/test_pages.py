"""The secretariat's pages: home, a country, a query, the calendar feed; rows link to rows; login and read-only."""
from __future__ import annotations

import json
import re
import sqlite3

import icalendar
import pytest

from bot import dashboard
from bot.cli import main
from bot.dashboard import feeds
from storage.dashboard import LINKS
from tests.dashboard.seed import seed

pytest.importorskip("datasette")
pytest.importorskip("datasette_auth_passwords")


@pytest.fixture
async def ds(env):
    ids = seed(env)
    config = env.services.config
    instance = dashboard.make_datasette(config.db_path, config=config, clock=env.clock.now,
                                        calendar=feeds.dashboard_calendar(config, env.clock))
    await instance.invoke_startup()
    instance.ids = ids
    return instance


async def page(ds, path, status=200):
    response = await ds.client.get(path)
    assert response.status_code == status, response.text[:400]
    return response.text


def specs(html: str) -> dict:
    return json.loads(re.search(r"const specs = (\{.*?\});\n", html, re.S).group(1))


async def test_home_page_has_figures_that_link_to_their_rows(ds):
    html = await page(ds, "/")
    assert "secretariat dashboard" in html and "As of 2016-05-20" in html
    charts = specs(html)
    progress = charts["chart-progress"]["data"]["values"]
    africa = {r["state"]: r["steps"] for r in progress if r["region"] == "Africa"}
    # Kenya: working_group done, leverage_plan overdue (its own due date passed); the rest not started
    assert africa["done"] == 1 and africa["overdue"] == 1
    assert next(r for r in progress if r["state"] == "overdue")["href"].startswith("/ldn/overdue_milestones?region=")
    overdue = charts["chart-overdue"]["data"]["values"]
    assert [(r["region"], r["countries"]) for r in overdue] == [("Africa", 1)]
    assert overdue[0]["href"] == "/ldn/overdue_milestones?region=Africa&step=leverage_plan"
    weeks = charts["chart-weeks"]["data"]["values"]
    assert {(r["state"], r["queries"]) for r in weeks} == {("open", 1), ("resolved", 1)}
    assert 'id="sla-first">50.0%' in html  # one of two queries missed its first-response SLA
    assert "/ldn/sla_by_region" in html and "/ldn/faq_gaps_recent" in html and "/ldn/satisfaction_by_topic" in html
    assert "datasette_dashboards/vega-embed.min.js" in html and "cdn" not in html.lower()
    assert "<svg" not in html.split('<section class="content">')[1]  # no hand-drawn charts: vega-embed draws them
    js = await ds.client.get("/-/static-plugins/datasette_dashboards/vega-embed.min.js")
    assert js.status_code == 200 and "vegaEmbed" in js.text


async def test_country_page(ds):
    html = await page(ds, "/country/ken")
    assert "<h1>Kenya <small>KEN</small></h1>" in html
    assert "Wanjiru" in html and "@wanjiru_k" in html and "2016-05-20T08:00:00Z" in html  # bound since
    assert "1 of 10 steps done" in html and "1 overdue" in html
    assert f'href="/query/{ds.ids["first"]}">#{ds.ids["first"]}</a>' in html and "Amina" in html
    assert "overdue</span>" in html and "retries exhausted" in html
    assert 'href="/calendar/KEN.ics"' in html
    await page(ds, "/country/XYZ", status=404)


async def test_query_page_shows_names_not_ids(ds):
    html = await page(ds, f"/query/{ds.ids['first']}")
    assert "Query #1" in html and "Wanjiru" in html and "Amina" in html and "Kenya" in html
    assert "Start from the Trends.Earth default data." in html and "assign" in html
    assert ">501<" not in html and ">800<" not in html
    await page(ds, "/query/999", status=404)


async def test_rows_link_to_the_rows_they_refer_to(ds):
    html = await page(ds, "/ldn/queries")
    assert '<a href="/ldn/users/501">Wanjiru</a>' in html and '<a href="/ldn/users/800">Amina</a>' in html
    assert '<a href="/ldn/ref_countries/KEN">Kenya</a>' in html
    html = await page(ds, "/ldn/milestones")
    assert '<a href="/ldn/milestone_steps/working_group">' in html
    row = await page(ds, "/ldn/ref_countries/KEN")
    assert "/ldn/queries?country=KEN" in row  # links from other tables
    late = await page(ds, "/ldn/queries_overdue")
    assert '<a href="/query/1">#1</a>' in late and '<a href="/country/KEN">KEN</a>' in late


async def test_calendar_feed_for_a_phone(ds):
    response = await ds.client.get("/calendar/KEN.ics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(response.text)
    events = {str(e["UID"]).split("@")[0]: e for e in cal.walk("VEVENT")}
    assert "ws-konya" in events and "ws-bangkok" not in events
    assert "step-KEN-working_group" not in events  # done
    plan = events["step-KEN-leverage_plan"]
    assert str(plan["DTSTART"].dt) == "2016-05-01"
    triggers = sorted(-a["TRIGGER"].dt.days for a in plan.walk("VALARM"))
    assert triggers == [1, 7]  # the milestone reminder offsets
    konya = sorted(a["TRIGGER"].dt.total_seconds() for a in events["ws-konya"].walk("VALARM"))
    assert konya == [-14 * 86400, -3 * 86400, -86400]  # the event's own offsets in events.yaml: 14d 3d 1d
    cric = sorted(a["TRIGGER"].dt.total_seconds() for a in events["cric-15"].walk("VALARM"))
    assert cric == [-14 * 86400, -3 * 86400, -86400, -7200]  # reminders.offsets: 14d 3d 1d 2h
    assert (await ds.client.get("/calendar/XYZ.ics")).status_code == 404


async def test_read_only_whatever_the_request(ds, env):
    assert (await ds.client.get("/ldn.db")).status_code == 403
    databases = (await ds.client.get("/-/databases.json")).json()
    assert [(d["name"], d["is_mutable"]) for d in databases] == [("ldn", False)]
    response = await ds.client.get("/ldn.json?sql=update+users+set+first_name='x'")
    assert response.status_code == 400
    assert env.db.execute("SELECT first_name FROM users WHERE user_id = 501").fetchone()[0] == "Wanjiru"


async def test_login_required_when_a_password_is_set(env):
    from datasette_auth_passwords.utils import hash_password

    seed(env)
    config = env.services.config
    ds = dashboard.make_datasette(config.db_path, config=config, clock=env.clock.now,
                                  password_hash=hash_password("s3cret"))
    await ds.invoke_startup()
    for path in ("/", "/country/KEN", "/query/1"):
        response = await ds.client.get(path)
        assert response.status_code == 302 and response.headers["location"] == "/-/login"
    assert (await ds.client.get("/ldn/queries.json")).status_code in (302, 403)
    form = await ds.client.get("/-/login")
    token = re.search(r'name="csrftoken" value="([^"]+)"', form.text).group(1)
    wrong = await ds.client.post("/-/login", data={"username": "secretariat", "password": "nope", "csrftoken": token},
                                 cookies={"ds_csrftoken": form.cookies["ds_csrftoken"]})
    assert "Invalid username or password" in wrong.text
    ok = await ds.client.post("/-/login", data={"username": "secretariat", "password": "s3cret", "csrftoken": token},
                              cookies={"ds_csrftoken": form.cookies["ds_csrftoken"]})
    assert ok.status_code == 302
    home = await ds.client.get("/", cookies={"ds_actor": ok.cookies["ds_actor"]})
    assert home.status_code == 200 and "secretariat dashboard" in home.text
    databases = (await ds.client.get("/-/databases.json", cookies={"ds_actor": ok.cookies["ds_actor"]})).json()
    assert [d["is_mutable"] for d in databases] == [False]


def test_binding_beyond_this_machine_needs_a_password(env, monkeypatch, capsys):
    assert dashboard.check_bind("127.0.0.1", None) is False
    assert dashboard.check_bind("0.0.0.0", "pbkdf2_sha256$...") is True
    with pytest.raises(dashboard.BindRefused, match="LDN_DASHBOARD_PASSWORD_HASH"):
        dashboard.check_bind("192.168.1.5", None)
    monkeypatch.setenv("LDN_DB", env.services.config.db_path)
    monkeypatch.delenv("LDN_DASHBOARD_PASSWORD_HASH", raising=False)
    assert main(["dashboard", "--host", "0.0.0.0", "--port", "1"]) == 2
    assert "refusing to serve the dashboard on 0.0.0.0 without a login" in capsys.readouterr().err


def test_the_guard_holds_on_a_plain_connection(env):
    conn = sqlite3.connect(env.services.config.db_path)
    dashboard.guard(conn)
    with pytest.raises(sqlite3.DatabaseError, match="not authorized"):
        conn.execute("UPDATE users SET first_name = 'x'")
    conn.close()


CANNED_SIX = ("overdue_milestones", "countries_without_focal_point", "queries_overdue", "sla_by_region",
              "satisfaction_by_topic", "faq_gaps_recent")


async def test_canned_queries_show_names_not_ids_and_fold_their_sql(ds):
    from knowledge.faq import load_topics

    for name in CANNED_SIX:
        html = await page(ds, f"/ldn/{name}")
        assert 'id="sql-query"' not in html and "<textarea" not in html, name  # the SQL is folded away ...
        assert f'href="/ldn/{name}?_show_sql=1">show</a>' in html, name  # ... one click shows it
    assert 'id="sql-query"' in await page(ds, "/ldn/sla_by_region?_show_sql=1")
    topic_name = load_topics()[ds.ids["topic"]]["en"]
    html = await page(ds, "/ldn/satisfaction_by_topic")
    assert f">{topic_name}<" in html and f">{ds.ids['topic']}<" not in html  # the topic's name, not its id
    html = await page(ds, "/ldn/queries_overdue")
    assert ">Wanjiru<" in html and ">Amina<" in html and ">501<" not in html and ">800<" not in html
    assert '<a href="/query/1">#1</a>' in html
    html = await page(ds, "/ldn/overdue_milestones")
    assert "LDN leverage opportunities identified" in html and ">leverage_plan<" not in html
    assert '<a href="/country/KEN">KEN</a>' in html and ">Kenya<" in html
    html = await page(ds, "/ldn/faq_gaps_recent")
    assert "how to fund the national working group" in html and ">Kenya<" in html
    html = await page(ds, "/ldn/overdue_queries_by_region")
    assert '<a href="/query/1">#1</a>' in html


async def test_table_pages_do_not_open_with_column_notes(ds):
    html = await page(ds, "/ldn/queries")
    css = (await ds.client.get("/ldn-static/ldn.css")).text
    assert "dl.column-descriptions { display: none; }" in css and "/ldn-static/ldn.css" in html
    # a query's country (a key declared by m0015) and its assignee (the dashboard's own link) link to their rows
    assert '<a href="/ldn/ref_countries/KEN">Kenya</a>' in html and '<a href="/ldn/users/800">Amina</a>' in html


async def test_a_query_row_links_its_asker_and_assignee_by_name(ds, env):
    """The declared keys (m0018), not the dashboard's extra links: Datasette links the query's
    people to their rows, labelled by name."""
    declared = {(r[3], r[2]) for r in env.db.execute("PRAGMA foreign_key_list(queries)")}
    assert {("asker_id", "users"), ("assignee_id", "users")} <= declared
    assert not {c for c, _t, _o in LINKS["queries"]} & {"asker_id", "assignee_id"}
    html = await page(ds, f"/ldn/queries?id={ds.ids['first']}")
    asker = re.search(r'<td class="col-asker_id[^"]*"[^>]*>(.*?)</td>', html, re.S).group(1)
    assignee = re.search(r'<td class="col-assignee_id[^"]*"[^>]*>(.*?)</td>', html, re.S).group(1)
    assert re.search(r'<a href="/ldn/users/\d+">Wanjiru</a>', asker), asker
    assert re.search(r'<a href="/ldn/users/\d+">Amina</a>', assignee), assignee
