"""Who may do what. Plain rules, no Telegram objects: checked for every command and button.

Roles: ``secretariat`` (configured ids or granted), ``expert``, ``focal_point`` (bound to
one country). The secretariat may do everything an expert may.
"""
from __future__ import annotations

from dataclasses import dataclass

from storage import users

ROLES = ("focal_point", "expert", "secretariat")


@dataclass(frozen=True)
class Person:
    """The user behind an update, as the bot knows them."""

    user_id: int
    name: str
    username: str | None
    lang: str
    role: str | None
    country: str | None
    timezone: str | None = None

    @property
    def is_secretariat(self) -> bool:
        return self.role == "secretariat"

    @property
    def is_expert(self) -> bool:
        """Experts and the secretariat answer and triage helpdesk queries."""
        return self.role in ("expert", "secretariat")

    @property
    def is_focal_point(self) -> bool:
        return self.role == "focal_point" and bool(self.country)

    def may_edit_country(self, iso3: str | None) -> bool:
        """A focal point changes only their own country; the secretariat any."""
        if self.is_secretariat:
            return True
        return self.is_focal_point and iso3 is not None and iso3.upper() == self.country

    def may_see_country(self, iso3: str | None) -> bool:
        return self.is_expert or self.may_edit_country(iso3)


def effective_role(row: dict | None, user_id: int, secretariat_ids, expert_ids) -> str | None:
    """Configured ids win over the database (so a config change can always restore access)."""
    if user_id in secretariat_ids:
        return "secretariat"
    if row and row.get("role") in ROLES:
        if user_id in expert_ids and row["role"] == "focal_point":
            return "expert"
        return row["role"]
    if user_id in expert_ids:
        return "expert"
    return None


STAFF = ("secretariat", "expert")


def staff_roles(db, secretariat_ids, expert_ids) -> dict[int, str]:
    """Everyone whose role is secretariat or expert (from config.yaml or granted), with that role."""
    found: dict[int, str] = {}
    rows = {r["user_id"]: r for role in STAFF for r in users.users_where(db, role=role, active_only=False)}
    for user_id in set(rows) | set(secretariat_ids) | set(expert_ids):
        role = effective_role(rows.get(user_id) or users.get_user(db, user_id), user_id, secretariat_ids, expert_ids)
        if role in STAFF:
            found[user_id] = role
    return found
