"""workhooks.domain."""
