"""loyaute: telework digital-trace check, lawful by design."""

__version__ = "0.1.0"

__all__ = ["__version__"]
