"""workhooks.delivery."""
