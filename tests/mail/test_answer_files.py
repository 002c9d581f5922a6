"""An expert's answer that carries a document or a photo reaches the e-mail asker with the file
as a MIME attachment (downloaded through the Bot API: getFile, then the file URL), through the
ledger; a file over the limit is left out, the asker told in the answer and the experts told why."""
from __future__ import annotations

from storage import helpdesk as hd_store
from tests.helpdesk.util import bot_message
from tests.mail.util import attachments, body, mail
from tests.util import EXPERT, EXPERT_CHAT, texts

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"
TIFF = b"II*\x00" + b"\x00\xff" * 3000


async def _asked(menv) -> tuple[int, int]:
    await menv.bind()
    await menv.deliver(mail("Baseline maps", "Can you send the baseline maps for Kenya?", message_id="f1@ministry.example"))
    qid = menv.db.execute("SELECT max(id) FROM queries").fetchone()[0]
    menv.outbox.clear()
    return qid, hd_store.get_query(menv.db, qid)["expert_message_id"]


async def _expert_sends(menv, card_id: int, **extra):
    return await menv.bot.send(None, user_id=EXPERT, chat_id=EXPERT_CHAT, chat_type="supergroup", reply_to=bot_message(card_id), **extra)


async def test_a_document_and_a_photo_go_as_attachments_once(menv):
    qid, card_id = await _asked(menv)
    api = menv.bot.api
    doc = api.add_file("DOCPDF1", PDF)
    await _expert_sends(menv, card_id, caption="Here is the guidance note.",
                        document={**doc, "file_name": "guidance.pdf", "mime_type": "application/pdf"})
    answer = menv.outbox.last("amina@ministry.example")
    assert answer["Subject"] == f"Re: [LDN #{qid}] Baseline maps" and answer["In-Reply-To"] == "<f1@ministry.example>"
    assert "Here is the guidance note." in body(answer)
    assert attachments(answer) == [("guidance.pdf", PDF)]
    part = next(answer.iter_attachments())
    assert part.get_content_type() == "application/pdf"
    assert [c.method for c in api.calls if c.method in ("getFile", "downloadFile")] == ["getFile", "downloadFile"]
    assert hd_store.messages(menv.db, qid, ["expert"])[-1]["delivery_status"] == "sent"

    photo = api.add_file("PHOTO1", TIFF[:4000])
    await _expert_sends(menv, card_id, caption="And the map.", photo=[{**photo, "width": 800, "height": 600}])
    answer = menv.outbox.last("amina@ministry.example")
    assert attachments(answer) == [(f"photo-{qid}.jpg", TIFF[:4000])]
    assert len(menv.outbox.to("amina@ministry.example")) == 2

    # the mail job's flush and a second relay of the same expert message send nothing again
    before = len(menv.outbox.messages)
    await menv.channel.tick()
    route = hd_store.messages(menv.db, qid, ["expert"])[0]
    query = hd_store.get_query(menv.db, qid)
    assert await menv.channel.answer(query, route["chat_id"], route["message_id"]) == "sent"
    assert len(menv.outbox.messages) == before
    assert menv.db.execute("SELECT count(*) FROM deliveries WHERE method = 'email' AND ref LIKE 'answer:%'").fetchone()[0] == 2


async def test_a_file_over_the_limit_is_left_out_and_the_expert_told(menv):
    qid, card_id = await _asked(menv)
    api = menv.bot.api
    big = b"\x00" * (600 * 1024)  # the test limit (mail.max_attachment_mb) is 0.5 MB
    doc = api.add_file("DOCBIG", big)
    api.clear()
    await _expert_sends(menv, card_id, caption="The full GeoTIFF.",
                        document={**doc, "file_name": "ken_lpd.tif", "mime_type": "image/tiff"})
    answer = menv.outbox.last("amina@ministry.example")
    assert attachments(answer) == []
    assert "The full GeoTIFF." in body(answer) and "ken_lpd.tif" in body(answer) and "too large" in body(answer)
    assert not [c for c in api.calls if c.method in ("getFile", "downloadFile")]  # its size said enough: not downloaded
    told = [t for t in texts(api.calls, EXPERT_CHAT) if "ken_lpd.tif" in t]
    assert len(told) == 1 and "0.6 MB" in told[0] and "0.5 MB" in told[0] and f"#{qid}" in told[0]


async def test_a_file_telegram_cannot_give_is_left_out_and_the_expert_told(menv):
    qid, card_id = await _asked(menv)
    api = menv.bot.api
    api.clear()
    await _expert_sends(menv, card_id, caption="See attached.",
                        document={"file_id": "GONE", "file_unique_id": "uGONE", "file_name": "table.xlsx",
                                  "mime_type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "file_size": 2000})
    answer = menv.outbox.last("amina@ministry.example")
    assert attachments(answer) == [] and "table.xlsx" in body(answer)
    assert any("table.xlsx" in t and "could not be fetched" in t for t in texts(api.calls, EXPERT_CHAT))
