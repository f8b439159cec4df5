#!/usr/bin/env python3
"""Run the workhooks server on SQLite with a live demo: receiver, webhook and simulated changes.

Usage: ``python3 scripts/demo.py [workhooks demo args...]``
"""

from __future__ import annotations

import sys

import _venv


def main() -> int:
    """Set up the environment, then hand over to ``workhooks demo``."""
    python = _venv.ensure()
    return _venv.run(python, ["-m", "workhooks", "demo", *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
