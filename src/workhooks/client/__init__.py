"""workhooks.client."""
