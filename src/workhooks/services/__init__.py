"""workhooks.services."""
