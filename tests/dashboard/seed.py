"""A small secretariat's database for the dashboard tests: Kenya with a focal point, queries, a checklist."""
from __future__ import annotations

import datetime as dt

from storage import faq as faq_store
from storage import helpdesk as hd_store
from storage import users
from storage.db import utcnow_iso

ASKER, EXPERT, SECRETARIAT = 501, 800, 900


def seed(env) -> dict:
    """Kenya: focal point Wanjiru, two queries (#1 overdue, assigned to Amina), a checklist half done, FAQ votes and a gap."""
    db, now = env.db, env.clock.now()
    stamp = utcnow_iso(now)
    users.touch_user(db, ASKER, "Wanjiru", "wanjiru_k", now)
    users.touch_user(db, EXPERT, "Amina", "amina_x", now)
    users.set_role(db, ASKER, "focal_point", "KEN", now, SECRETARIAT, "cli")
    users.set_role(db, EXPERT, "expert", None, now, SECRETARIAT, "cli")
    first = hd_store.insert_query(db, asker_id=ASKER, country="KEN", lang="en", text="How do we compute the SDG 15.3.1 baseline?",
                                  source="ask", candidates=[], now=now - dt.timedelta(days=9))
    db.execute("UPDATE queries SET state = 'open', overdue = 1, breached_first = 1, assignee_id = ? WHERE id = ?", [EXPERT, first])
    hd_store.add_message(db, first, chat_id=ASKER, message_id=10, role="asker", now=now, author_id=ASKER,
                         text="How do we compute the SDG 15.3.1 baseline?")
    hd_store.add_message(db, first, chat_id=-100, message_id=11, role="expert", now=now, author_id=EXPERT,
                         text="Start from the Trends.Earth default data.")
    hd_store.add_event(db, first, now, EXPERT, "assign", None, EXPERT)
    second = hd_store.insert_query(db, asker_id=ASKER, country="KEN", lang="en", text="Is the workshop in Nairobi?",
                                   source="ask", candidates=[], now=now)
    db.execute("UPDATE queries SET state = 'resolved' WHERE id = ?", [second])
    for step, status, due in (("working_group", "done", None), ("leverage_plan", "in_progress", "2016-05-01")):
        db.execute("INSERT INTO milestones (iso3, step_id, status, due, changed_via, changed_at) VALUES ('KEN', ?, ?, ?, 'cli', ?)",
                   [step, status, due, stamp])
    db.execute("""INSERT INTO deliveries (kind, ref, chat_id, method, payload, status, due_at, created_at, error)
                  VALUES ('reminder', 'r1', ?, 'sendMessage', '{}', 'failed', ?, ?, 'retries exhausted')""", [ASKER, stamp, stamp])
    entry, topic = db.execute("SELECT id, topic FROM faq_entries WHERE lang = 'en' ORDER BY position LIMIT 1").fetchone()
    faq_store.record_feedback(db, entry, True, lang="en", user_id=ASKER, country="KEN", now=now)
    faq_store.record_feedback(db, entry, False, lang="en", user_id=ASKER, country="KEN", query="land degradation neutrality",
                              now=now)
    faq_store.log_miss(db, "how to fund the national working group", lang="en", best_score=0.12, country="KEN",
                       user_id=ASKER, now=now)
    return {"first": first, "second": second, "topic": topic}
