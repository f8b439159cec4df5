"""workhooks.api."""
