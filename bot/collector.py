"""Start-up without the cyclic garbage collector (see :mod:`bot.launch`, which turns it off)."""
from __future__ import annotations

import gc


def resume_collection() -> None:
    """Turn the collector back on, the start-up objects frozen so that later collections do not
    walk them (once; a no-op where :func:`bot.launch.main` did not turn it off, as in tests)."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
