"""Terse builders shared by the filter grammar and filter spec tests."""

from __future__ import annotations

from workhooks.domain.filters import Comparison, Constant, Operator

EQ, GE, LE = Operator.EQ, Operator.GE, Operator.LE


def cmp(field: str, op: Operator, value: Constant) -> Comparison:
    """Build a ``Comparison`` tersely."""
    return Comparison(field=field, op=op, value=value)
