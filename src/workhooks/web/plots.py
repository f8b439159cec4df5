"""Small line plots drawn on the server as inline SVG (no script, nothing fetched)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Plot", "plot"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Plot:
    """An SVG polyline's points in a ``width`` x ``height`` box, and the value at the top."""

    points: str
    width: int
    height: int
    top: float
    last: float


def plot(
    values: Sequence[float | None], *, width: int = 640, height: int = 120, top: float = 0.0
) -> Plot:
    """Scale ``values`` (oldest first) into a polyline under ``top`` (default: their largest).

    A None (nothing measured then) leaves its point out.
    """
    known = [v for v in values if v is not None]
    top = top or max(known, default=0.0) or 1.0
    step = width / max(len(values) - 1, 1)
    points = " ".join(
        f"{i * step:.1f},{height - (v / top) * (height - 2) - 1:.1f}"
        for i, v in enumerate(values)
        if v is not None
    )
    return Plot(
        points=points,
        width=width,
        height=height,
        top=max(known, default=0.0),
        last=known[-1] if known else 0.0,
    )
