"""``workhooks mirror``: a ready consumer built on the SDK (receiver, sync engine, check)."""
