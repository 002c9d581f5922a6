"""Adding a helpdesk state touches several tables (docs/CONTRIBUTING.md, "add a helpdesk state"):
forgetting one of them fails here rather than at run time."""
from __future__ import annotations

from bot.helpdesk.rules import DONE_STATES, STATE_CODES, TICK_STATES, TRANSITIONS
from handlers.helpdesk.render import STATE_ICONS
from knowledge.vocabulary import ACTIVE_STATES, QueryState


def test_every_state_has_a_button_code_an_icon_and_a_way_in_or_out():
    assert set(STATE_CODES) == set(QueryState)
    assert len(set(STATE_CODES.values())) == len(STATE_CODES)  # a code names one state
    assert set(STATE_ICONS) == set(QueryState)
    touched = {s for pair in TRANSITIONS for s in pair}
    assert touched == set(QueryState)


def test_state_groups_do_not_overlap_where_they_must_not():
    assert not set(ACTIVE_STATES) & set(DONE_STATES)
    assert set(ACTIVE_STATES) < set(TICK_STATES)
    assert QueryState.CLOSED not in TICK_STATES
