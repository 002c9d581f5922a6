"""LDN TSP bot: the core (config, wiring, CLI, clock, translations, services)."""

__version__ = "0.1.0"
