"""Long lists in the chat (/overdue, /progress, /queue, /gaps): the counts and the worst cases
first, then one page of rows with ◀️ n/N ▶️ buttons, always in one message within Telegram's limit.

A page button carries its list's arguments and the page number in the feature's own callback
data (``v1:ms:od:<circle>:<page>``, ``v1:hd:qp:<page>:<filter>``, ``v1:faq:gaps:<page>``).
Callback data is forgeable: the feature's button handler checks the presser's right again on
every press, then reads the page with :func:`page_number`; a number that is not one (``x``,
``²``, a page past any list) or a list that no longer exists is answered by :func:`refuse_stale`
with a translated "send /overdue again", never a crash or a silent spinner.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable, Generic, Sequence, TypeVar

from telegram import Update

from bot.roles import Person
from handlers.common import MAX_MESSAGE, Context, answer_button, edit_or_reply, keyboard, reply, t

log = logging.getLogger("ldn.handlers.paging")

T = TypeVar("T")
#: Page numbers in callback data: at most this many ASCII digits (no list has 10,000 pages).
MAX_PAGE_DIGITS = 4
Buttons = list[tuple[str, str]]


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its rows, its place (0-based ``index`` of ``count`` pages) and the total."""

    rows: Sequence[T]
    index: int
    count: int
    total: int

    @property
    def several(self) -> bool:
        return self.count > 1


def paginate(items: Sequence[T], index: int, size: int) -> Page[T]:
    """Page ``index`` (0-based) of ``items``, ``size`` rows a page; an index past either end
    gives the nearest page (a button drawn when the list was longer still shows something)."""
    size = max(1, size)
    count = max(1, -(-len(items) // size))
    index = min(max(index, 0), count - 1)
    return Page(items[index * size:(index + 1) * size], index, count, len(items))


def counted(rows: Sequence[T], index: int, size: int, total: int) -> Page[T]:
    """The page a service already cut (``rows`` of page ``index`` of ``total`` rows)."""
    count = max(1, -(-total // max(1, size)))
    return Page(rows, min(max(index, 0), count - 1), count, total)


def page_number(text: str | None) -> int | None:
    """The page a button names (0-based, as :func:`nav_row` writes it), or None when the data
    is not a page number (letters, ``²``, a sign, too many digits)."""
    if not text or not text.isascii() or not text.isdigit() or len(text) > MAX_PAGE_DIGITS:
        return None
    return int(text)


def nav_row(context: Context, who: Person, page: Page, data: Callable[[int], str]) -> Buttons:
    """◀️ previous · n/N · next ▶️ for a list of several pages (``data(i)``: page ``i``'s callback
    data; the middle button redraws the page shown); nothing for a one-page list."""
    if not page.several:
        return []
    row: Buttons = []
    if page.index > 0:
        row.append((t(context, who, "paging.prev"), data(page.index - 1)))
    row.append((f"{page.index + 1}/{page.count}", data(page.index)))
    if page.index < page.count - 1:
        row.append((t(context, who, "paging.next"), data(page.index + 1)))
    return row


@dataclass
class Screen:
    """What one reply of a long list shows, top to bottom: ``summary`` (the counts and the worst
    cases), the page's ``rows`` (under ``rows_title``), "page n of N", ``footer`` (hints); then ``buttons`` (the
    feature's own rows) and the page navigation."""

    summary: list[str]
    rows: list[str]
    page: Page
    rows_title: str | None = None
    nav: Buttons = field(default_factory=list)
    footer: list[str] = field(default_factory=list)
    buttons: list[Buttons] = field(default_factory=list)
    page_key: str = "paging.page"


def render(context: Context, who: Person, screen: Screen) -> str:
    """The screen as one message: rows that would not fit (long titles in a long page) are left
    for the next page's reader rather than splitting the reply, and marked with "…"."""
    tail: list[str] = []
    if screen.page.several:
        tail += ["", t(context, who, screen.page_key, page=screen.page.index + 1, pages=screen.page.count)]
    if screen.footer:
        tail += [""] + screen.footer
    rows = list(screen.rows)
    while True:
        title = [screen.rows_title] if screen.rows_title else []
        text = "\n".join(screen.summary + ([""] + title + rows if rows else []) + tail)
        if len(text) <= MAX_MESSAGE or not rows:
            return text
        rows = rows[:-2] + ["…"] if len(rows) > 1 else []


def markup_of(screen: Screen):
    rows = [row for row in screen.buttons if row]
    if screen.nav:
        rows.append(screen.nav)
    return keyboard(rows) if rows else None


async def show(update: Update, context: Context, who: Person, screen: Screen, *, edit: bool = False) -> None:
    """Send the screen (a command) or put it in place of the pressed message (a page button)."""
    text, markup = render(context, who, screen), markup_of(screen)
    if edit:
        await edit_or_reply(update, context, text, markup=markup)
    else:
        await reply(update, context, text, markup=markup)


async def refuse_stale(update: Update, context: Context, who: Person, command: str) -> None:
    """A page button whose data is not a page of a list we draw (forged, or from an older
    version): say so, and which command draws the list afresh."""
    log.info("paging.stale_button", extra={"user": who.user_id, "command": command})
    await answer_button(update, t(context, who, "paging.stale", command=command), alert=True)


async def refuse_not_allowed(update: Update, context: Context, who: Person, command: str) -> None:
    """A page button pressed by someone the list is not for (a forwarded message, forged data)."""
    log.warning("paging.forbidden_button", extra={"user": who.user_id, "command": command})
    await answer_button(update, t(context, who, "error.not_allowed"), alert=True)
