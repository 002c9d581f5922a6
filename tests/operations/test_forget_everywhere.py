"""Forgetting forgets everywhere: the person's name and @username leave other people's records
too (an expert's answer greeting them, a FAQ entry promoted from it, another focal point's
question about them), the database file holds no trace after the forget, nor does a backup
made later, and backups made before are listed and rewritten by ``--prune-forgotten``."""
from __future__ import annotations

from pathlib import Path

from bot import backup
from bot.cli import main
from storage import faq as faq_store
from storage import helpdesk as hd_store
from tests.helpdesk.util import bot_message
from tests.operations.test_privacy import ME, NAME, UID, USERNAME, live_a_little
from tests.util import EXPERT, EXPERT_CHAT, FOCAL_KEN, one_text

FORMS = [NAME, NAME.lower(), NAME.upper(), USERNAME, "@" + USERNAME]


def traces(path: Path) -> list[str]:
    """Every form of the name found in the file's bytes (and its write-ahead log)."""
    found = []
    for part in (path, Path(str(path) + "-wal")):
        if part.exists():
            data = part.read_bytes()
            found += [f"{part.name}: {form}" for form in FORMS if form.encode() in data]
    return found


async def mentioned_by_others(env) -> None:
    """Another focal point asks about the person; an expert answers greeting them; the answer is
    proposed and approved as an FAQ entry."""
    await env.send(f"/ask My colleague {NAME} (@{USERNAME}) says the SOC map is outdated: which one do we use?",
                   user_id=FOCAL_KEN)
    qid = env.db.execute("SELECT max(id) FROM queries").fetchone()[0]
    card = hd_store.get_query(env.db, qid)["expert_message_id"]
    await env.send(f"Hello, and greetings to {NAME}: use the 2015 national SOC map.", user_id=EXPERT,
                   chat_id=EXPERT_CHAT, chat_type="supergroup", reply_to=bot_message(card))
    draft = faq_store.add_draft(env.db, topic="indicators", q=f"Which SOC map did {NAME} recommend?",
                                a=f"As {NAME} (@{USERNAME}) was told: the 2015 national SOC map.", ref=f"query:{qid}",
                                created_by=EXPERT, now=env.clock.now())
    faq_store.approve_draft(env.db, draft, EXPERT, now=env.clock.now())


async def test_forgetme_leaves_no_trace_in_the_file_or_a_later_backup(env, tmp_path, monkeypatch):
    await live_a_little(env)
    await mentioned_by_others(env)
    db_path = Path(env.services.config.db_path)
    monkeypatch.setenv("LDN_DB", str(db_path))
    folder = tmp_path / "backups"
    assert main(["backup", str(folder) + "/"]) == 0
    before = backup.list_backups(folder)
    assert len(before) == 1 and traces(before[0])

    calls = await env.send("/forgetme", **ME)
    button = next(b for c in calls for b in c.buttons if b["callback_data"].startswith("v1:ops:forget:"))
    assert "deleted" in one_text(await env.press(button["callback_data"], user_id=UID), UID)

    assert traces(db_path) == []
    # the programme's records stay, without the name: the other focal point's question, the answer, the FAQ entry
    texts = [r[0] for r in env.db.execute("SELECT text FROM query_messages WHERE text LIKE '%SOC map%'")]
    assert texts and all("[removed]" in t for t in texts if "greetings" in t or "colleague" in t)
    promoted = env.db.execute("SELECT a FROM faq_entries WHERE origin = 'promoted'").fetchone()[0]
    assert "2015 national SOC map" in promoted and "[removed]" in promoted

    later = tmp_path / "later.db"
    assert main(["backup", str(later)]) == 0
    assert traces(later) == []

    assert backup.backups_holding_forgotten(folder, db_path) == before
    assert main(["backup", str(folder), "--prune-forgotten"]) == 0
    assert traces(before[0]) == []
    assert backup.backups_holding_forgotten(folder, db_path) == []


async def test_the_command_line_forget_warns_about_older_backups(env, tmp_path, monkeypatch, capsys):
    await live_a_little(env)
    monkeypatch.setenv("LDN_DB", env.services.config.db_path)
    monkeypatch.setenv("LDN_CFG__OPERATIONS__BACKUP_DIR", str(tmp_path / "b"))
    assert main(["backup", str(tmp_path / "b") + "/"]) == 0
    capsys.readouterr()
    assert main(["user", "forget", str(UID)]) == 0
    err = capsys.readouterr().err
    assert "1 backup(s) made before still hold forgotten people" in err and "--prune-forgotten" in err
    assert traces(Path(env.services.config.db_path)) == []
