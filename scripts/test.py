#!/usr/bin/env python3
"""Run the whole test suite (lint, types, tests, coverage) in the project's locked environment.

Usage: ``python3 scripts/test.py [pytest args...]``

pytest runs under coverage (branch). Without pytest arguments (the whole suite, as CI runs
it) the coverage floors are enforced: 100 % of ``src/workhooks/domain`` and the package's
``fail_under`` from ``pyproject.toml``. With arguments (a part of the suite) the figures
are printed and no floor applies.
"""

from __future__ import annotations

import sys

import _venv

# The domain is pure rules: every line and branch of it is pinned by a test.
DOMAIN = "src/workhooks/domain/*"
DOMAIN_FLOOR = 100


def steps(pytest_args: list[str]) -> list[tuple[str, list[str]]]:
    """The commands to run in order, each as (title, arguments of the venv's python)."""
    whole_suite = not pytest_args
    found = [
        ("ruff check", ["-m", "ruff", "check", "."]),
        ("ruff format --check", ["-m", "ruff", "format", "--check", "."]),
        ("mypy --strict", ["-m", "mypy"]),
        ("pytest (under coverage)", ["-m", "coverage", "run", "-m", "pytest", *pytest_args]),
    ]
    if whole_suite:
        found += [
            (
                f"coverage of the domain (floor {DOMAIN_FLOOR} %)",
                ["-m", "coverage", "report", f"--include={DOMAIN}", f"--fail-under={DOMAIN_FLOOR}"],
            ),
            ("coverage of the package (floor: fail_under)", ["-m", "coverage", "report"]),
        ]
    else:
        found.append(
            ("coverage of this part (no floor)", ["-m", "coverage", "report", "--fail-under=0"])
        )
    return found


def main() -> int:
    """Set up the environment, then run each step; stop at a failure."""
    python = _venv.ensure()
    for title, args in steps(sys.argv[1:]):
        print(f"==> {title}", flush=True)
        code = _venv.run(python, args)
        if code != 0:
            print(f"==> {title} failed (exit {code})", flush=True)
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
