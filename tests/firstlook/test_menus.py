"""Menus per role and language: the secretariat and the experts get their own menu in each of the
six languages, whether the role is in config.yaml or granted with ``ldn-bot role grant``; it
follows a grant or a revocation."""
from __future__ import annotations

from bot import menus
from bot.cli import main
from tests.util import EXPERT, SECRETARIAT

NEW_EXPERT = 4711
LANG_CODES = {None, "fr", "es", "ru", "ar", "zh"}


def menus_of(api, user_id):
    return {c.params.get("language_code"): c for c in api.calls
            if c.method in ("setMyCommands", "deleteMyCommands") and c.params.get("scope") == {"type": "chat", "chat_id": user_id}}


async def test_staff_menus_in_six_languages_and_after_a_cli_grant(config, clock, monkeypatch, capsys):
    from bot.app import build_application
    from bot.offline import OfflineBotAPI

    api = OfflineBotAPI()
    app = build_application(config, request=api, clock=clock, rate_limit=False)
    await app.initialize()
    await app.post_init(app)
    try:
        for user_id in (SECRETARIAT, EXPERT):
            found = menus_of(api, user_id)
            assert set(found) == LANG_CODES
        sec_ru = [cmd["command"] for cmd in menus_of(api, SECRETARIAT)["ru"].params["commands"]]
        assert sec_ru[:3] == ["queue", "progress", "overdue"] and "checklist" in sec_ru
        expert_zh = menus_of(api, EXPERT)["zh"].params["commands"]
        assert expert_zh[0]["command"] == "queue" and "progress" not in [c["command"] for c in expert_zh]
        assert expert_zh[0]["description"] == app.bot_data["services"].t("zh", "menu.queue")
        assert not menus_of(api, NEW_EXPERT)

        monkeypatch.setenv("LDN_DB", str(config.db_path))
        assert main(["role", "grant", str(NEW_EXPERT), "expert"]) == 0
        api.clear()
        assert (await menus.refresh_staff_menus(app))[NEW_EXPERT] == "expert"
        found = menus_of(api, NEW_EXPERT)
        assert set(found) == LANG_CODES and all(c.method == "setMyCommands" for c in found.values())
        assert not menus_of(api, SECRETARIAT)  # unchanged: nothing sent again

        assert main(["role", "grant", str(NEW_EXPERT), "secretariat"]) == 0
        api.clear()
        await menus.refresh_staff_menus(app)
        assert "broadcast" in [c["command"] for c in menus_of(api, NEW_EXPERT)["fr"].params["commands"]]

        assert main(["role", "revoke", str(NEW_EXPERT), "secretariat"]) == 0
        api.clear()
        assert NEW_EXPERT not in await menus.refresh_staff_menus(app)
        found = menus_of(api, NEW_EXPERT)
        assert set(found) == LANG_CODES and all(c.method == "deleteMyCommands" for c in found.values())
    finally:
        await app.shutdown()
        app.bot_data["services"].store.close()


NEW_FOCAL = 5150


async def test_a_new_focal_point_gets_the_ask_menu_when_bound_not_at_the_next_start(env, config, monkeypatch):
    """Visitors must register (the default): the public private menu has no /ask; the invitation
    (the public private menu lacks /ask, tests/intake/test_fates.py) sets the new focal point's own menu at once, a CLI grant with the next heartbeat."""
    from bot import invites

    token, _ = await env.services.store.run(invites.create_invite, "KEN", SECRETARIAT, env.clock.now(), 14)
    env.api.clear()
    await env.send(f"/start {token}", user_id=NEW_FOCAL, language_code="fr")
    found = menus_of(env.api, NEW_FOCAL)
    assert set(found) == LANG_CODES and all(c.method == "setMyCommands" for c in found.values())
    names = [cmd["command"] for cmd in found["fr"].params["commands"]]
    assert "ask" in names and "myqueries" in names and "progress" not in names
    assert found["fr"].params["commands"][names.index("ask")]["description"] == env.services.t("fr", "menu.ask")

    monkeypatch.setenv("LDN_DB", str(config.db_path))
    assert main(["role", "revoke", str(NEW_FOCAL), "focal_point", "--country", "KEN"]) == 0
    env.api.clear()
    assert NEW_FOCAL not in await menus.refresh_staff_menus(env.app)
    assert all(c.method == "deleteMyCommands" for c in menus_of(env.api, NEW_FOCAL).values())
    assert main(["role", "grant", str(NEW_FOCAL + 1), "focal_point", "--country", "SEN"]) == 0
    env.api.clear()
    assert (await menus.refresh_staff_menus(env.app))[NEW_FOCAL + 1] == "focal_point"
    assert "ask" in [cmd["command"] for cmd in menus_of(env.api, NEW_FOCAL + 1)[None].params["commands"]]
