"""The web page of the e-mails' channel links (``/mail/channels``): the forms already sent.

* ``mail_form_nonces`` - the one-time nonce of each channel form that changed (or tried to
  change) a person's choice, so that the same form sent again acts no more. A nonce names no
  person (issue minute, random part, signature); rows older than a form's lifetime are pruned
  when a form is sent, since such a form is refused as too old anyway.
"""
from __future__ import annotations


def apply(db) -> None:
    db.execute(
        """CREATE TABLE IF NOT EXISTS mail_form_nonces (
            nonce TEXT PRIMARY KEY,
            used_at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX IF NOT EXISTS idx_mail_form_nonces_used ON mail_form_nonces(used_at)")
