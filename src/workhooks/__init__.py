"""workhooks: self-hostable, Protime-compatible change webhooks for work interruptions."""

__version__ = "0.1.0"

__all__ = ["__version__"]
