"""Numbered schema migrations: ``mNNNN_name.py`` modules with an ``apply(db)`` function.

Numbers are reserved per feature: 0001 core, 0002 knowledge, 0003 helpdesk,
0004 milestones, 0005 reminders, 0006 groups, 0007 operations. A migration is never
edited after it has landed; a change is a new number.
"""
