-- When a webhook last had delivered everything: its lag is the time since then.
ALTER TABLE webhooks ADD COLUMN caught_up_at TEXT;
