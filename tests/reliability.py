"""Figures of the reliability scenarios, printed in a table at the end of every test run.

``python3 scripts/test.py -m reliability`` runs only the reliability suite; docs/reliability.md
holds the figures of a run.
"""

from __future__ import annotations

__all__ = ["FIGURES", "report"]

FIGURES: list[tuple[str, dict[str, int | str]]] = []


def report(scenario: str, **figures: int | str) -> None:
    """Record what a scenario sent, received, lost and duplicated (or attempted and refused)."""
    FIGURES.append((scenario, figures))
