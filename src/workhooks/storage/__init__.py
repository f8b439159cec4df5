"""workhooks.storage."""
