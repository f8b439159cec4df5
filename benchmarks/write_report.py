"""The goals and measures-table rows of the ``writes`` measure (``benchmarks.writes``).

``benchmarks.report`` adds these after its own; each row shows today's figure and, when the
run had a reference version, the reference's figure measured right after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["WRITE_GOALS", "write_rows"]

Found = tuple[str, bool] | None


def _shape(store: dict[str, Any], tenants: int, writers: int) -> dict[str, Any] | None:
    found = store.get("writes")
    if not isinstance(found, dict):
        return None
    return next(
        (s for s in found["shapes"] if s["tenants"] == tenants and s["writers"] == writers), None
    )


def _spread(store: dict[str, Any], results: dict[str, Any]) -> Found:
    """16 writers on 16 tenants through the store: 3x the reference, no notification lock."""
    shape = _shape(store, 16, 16)
    if shape is None or "store_reference" not in shape or "waits" not in shape["store_today"]:
        return None
    today, before = shape["store_today"], shape["store_reference"]
    ratio = today["per_second"] / before["per_second"]
    commit_lock = today["waits"].get("Lock:object", 0)
    text = (
        f"{today['per_second']:,.0f}/s against {before['per_second']:,.0f}/s ({ratio:.1f}x); "
        f"Lock:object seen {commit_lock} times in {today['wait_samples']} samples "
        f"(reference: {before['waits'].get('Lock:object', 0)})"
    )
    return text, ratio >= 3 and commit_lock == 0


def _hot(store: dict[str, Any], results: dict[str, Any]) -> Found:
    """One tenant: 16 writers at least as fast as 1 (PostgreSQL, through the store)."""
    one, many = _shape(store, 1, 1), _shape(store, 1, 16)
    if one is None or many is None or "waits" not in one["store_today"]:
        return None
    a, b = one["store_today"]["per_second"], many["store_today"]["per_second"]
    return f"{b:,.0f}/s with 16 writers, {a:,.0f}/s with 1", b >= a


WRITE_GOALS: tuple[tuple[str, str, str, Any], ...] = (
    (
        "writes_spread",
        "single-record writes/s, 16 writers on 16 tenants, through the store, against the "
        "reference version; waits on the notification lock",
        "≥ 3x, none",
        _spread,
    ),
    (
        "writes_hot",
        "single-record writes/s on one tenant: 16 writers against 1, through the store",
        "16 ≥ 1",
        _hot,
    ),
)


def _cell(shape: dict[str, Any] | None, path: str) -> str:
    if shape is None or f"{path}_today" not in shape:
        return "not run"
    today = shape[f"{path}_today"]
    text = f"{today['per_second']:,.0f}/s, p99 {today.get('p99_ms', 0):.1f} ms"
    before = shape.get(f"{path}_reference")
    if before is not None:
        text += f" (reference {before['per_second']:,.0f}/s, p99 {before.get('p99_ms', 0):.1f} ms)"
    return text


def write_rows(stores: Sequence[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    """One row per shape and path, for the stores where the measure ran."""
    shapes = next((s["writes"]["shapes"] for s in stores if "writes" in s), None)
    if shapes is None:
        return []
    rows = []
    for path, how in (("store", "through the store"), ("api", "through the API (PUT)")):
        for shape in shapes:
            t, w = shape["tenants"], shape["writers"]
            label = f"single-record writes, {w} writer(s) on {t} tenant(s), {how}"
            rows.append((label, [_cell(_shape(s, t, w), path) for s in stores]))
    return rows
