"""All SQL of the project lives in this package (sqlite-utils over SQLite)."""
import sys

if "numpy" not in sys.modules:
    # sqlite-utils imports numpy, if installed, only to map numpy scalars to column types
    # (this project never stores numpy values): a tenth of a second for every command.
    # Hidden while sqlite-utils loads, numpy is imported by the commands that search.
    sys.modules["numpy"] = None  # type: ignore[assignment]  # "import numpy" raises ImportError
    try:
        import sqlite_utils  # noqa: F401
    finally:
        del sys.modules["numpy"]
