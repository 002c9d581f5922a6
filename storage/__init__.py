"""All SQL of the project lives in this package (sqlite-utils over SQLite)."""
