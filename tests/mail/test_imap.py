"""IMAP polling against a real Dovecot (the distribution's ``dovecot-imapd``), started by the
fixture as a non-root process with its configuration in a temporary directory. Messages are
put in the mailbox with IMAP APPEND; the bot takes the unseen ones and flags them seen."""
from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from email import policy
from pathlib import Path

import pytest
from imap_tools import AND, MailBoxUnencrypted

from bot.mail.imap import ImapPoller
from tests.mail.util import HELPDESK, free_port, mail

DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)
PASSWORD = "imap-test-secret"

CONFIG = """
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dir}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={dir}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


@pytest.fixture
def dovecot():
    if DOVECOT is None:
        if os.environ.get("LDN_REQUIRE_DOVECOT"):
            pytest.fail("dovecot is not installed but LDN_REQUIRE_DOVECOT is set (.ci/run installs dovecot-imapd)")
        pytest.skip("dovecot is not installed here (apt-get install dovecot-imapd; .ci/run installs it)")
    workdir = Path(tempfile.mkdtemp(prefix="ldn-dovecot-"))
    os.chmod(workdir, 0o777)
    # Dovecot runs as this user, never as root: as ourselves, or as nobody when the tests run as root.
    account = pwd.getpwuid(os.getuid()) if os.getuid() != 0 else pwd.getpwnam("nobody")
    group = subprocess.run(["id", "-gn", account.pw_name], capture_output=True, text=True, check=True).stdout.strip()
    port = free_port()
    (workdir / "dovecot.conf").write_text(CONFIG.format(dir=workdir, user=account.pw_name, group=group, uid=account.pw_uid,
                                                        gid=account.pw_gid, port=port))
    (workdir / "passwd").write_text(f"{HELPDESK}:{{PLAIN}}{PASSWORD}\n")
    for path in workdir.iterdir():
        os.chmod(path, 0o644)
    extra = {"user": account.pw_uid, "group": account.pw_gid} if os.getuid() == 0 else {}
    proc = subprocess.Popen([DOVECOT, "-F", "-c", str(workdir / "dovecot.conf")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            **extra)
    deadline = time.monotonic() + 30
    while True:  # wait until it takes a login (start-up, not a measured figure)
        try:
            MailBoxUnencrypted("127.0.0.1", port).login(HELPDESK, PASSWORD).logout()
            break
        except (OSError, Exception):  # noqa: BLE001 - not listening yet
            if proc.poll() is not None or time.monotonic() > deadline:
                log = (workdir / "dovecot.log").read_text() if (workdir / "dovecot.log").exists() else ""
                proc.kill()
                pytest.fail(f"dovecot did not start: {proc.stdout.read().decode()[-500:]} {log[-1500:]}")
            time.sleep(0.2)
    yield port
    proc.terminate()
    proc.wait(timeout=30)
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def imap_vars(dovecot, mail_vars):
    mail_vars.setenv("LDN_IMAP_URL", f"imap://{HELPDESK}@127.0.0.1:{dovecot}/INBOX")
    mail_vars.setenv("LDN_IMAP_PASSWORD", PASSWORD)
    return dovecot


def append(port: int, *messages) -> None:
    with MailBoxUnencrypted("127.0.0.1", port).login(HELPDESK, PASSWORD) as box:
        for msg in messages:
            box.append(msg.as_bytes(policy=policy.SMTP), "INBOX", flag_set=())


def unseen(port: int) -> int:
    with MailBoxUnencrypted("127.0.0.1", port).login(HELPDESK, PASSWORD) as box:
        return len(list(box.uids(AND(seen=False))))


async def test_the_poller_takes_unseen_mail_once_and_flags_it_seen(imap_vars, menv):
    port = imap_vars
    menv.channel.poller.stop()  # the background thread is tested below; here one round at a time
    await menv.bind()
    menv.outbox.clear()
    await asyncio.to_thread(append, port, mail("Baseline", "How do we set the baseline?", message_id="imap1@ministry.example"),
                            mail("Out of office", "Away", headers={"Auto-Submitted": "auto-replied"}, message_id="imap2@x"))
    poller = ImapPoller(menv.channel, menv.channel.cfg)
    assert await poller.poll_once() == 2
    await menv.channel.settle()
    assert menv.db.execute("SELECT count(*) FROM queries WHERE source = 'email'").fetchone()[0] == 1
    assert len(menv.outbox.to("amina@ministry.example")) == 1  # the acknowledgement; none to the auto-reply
    assert await asyncio.to_thread(unseen, port) == 0
    assert await poller.poll_once() == 0


@pytest.fixture
def short_poll(mail_settings):
    """Dovecot wakes an IDLE at once only where inotify works; elsewhere (a busy CI box out of
    inotify instances) it checks every 30 s. A short ``mail.imap_poll`` keeps the test about the
    poller, not about Dovecot's notification."""
    mail_settings["imap_poll"] = "1s"


async def test_the_background_poller_picks_up_new_mail(short_poll, imap_vars, menv):
    port = imap_vars
    await menv.bind()
    await asyncio.to_thread(append, port, mail("Workshop", "When is the Africa workshop?", message_id="imap3@ministry.example"))
    for _ in range(600):  # the thread sees it in IDLE or its next round (a second later)
        if menv.db.execute("SELECT count(*) FROM queries").fetchone()[0]:
            break
        await asyncio.sleep(0.1)
    await menv.channel.settle()
    row = menv.db.execute("SELECT text FROM queries").fetchone()
    assert row is not None, f"no query after 60 s; poller rounds: {menv.channel.poller.rounds}"
    assert row[0].startswith("Workshop")
    assert menv.channel.poller.rounds >= 1
