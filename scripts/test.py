#!/usr/bin/env python3
"""Run the whole test suite (lint, types, tests) in the project's locked environment.

Usage: ``python3 scripts/test.py [pytest args...]``
"""

from __future__ import annotations

import sys

import _venv


def main() -> int:
    """Set up the environment, then run ruff, mypy --strict and pytest; stop at a failure."""
    python = _venv.ensure()
    steps: list[tuple[str, list[str]]] = [
        ("ruff check", ["-m", "ruff", "check", "."]),
        ("ruff format --check", ["-m", "ruff", "format", "--check", "."]),
        ("mypy --strict", ["-m", "mypy"]),
        ("pytest", ["-m", "pytest", *sys.argv[1:]]),
    ]
    for title, args in steps:
        print(f"==> {title}", flush=True)
        code = _venv.run(python, args)
        if code != 0:
            print(f"==> {title} failed (exit {code})", flush=True)
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
