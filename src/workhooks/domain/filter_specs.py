"""Which filters a collection accepts, and helpers that read what a filter asks for.

A ``FilterSpec`` lists the ``FilterField`` declarations of one collection, the fields every
filter must constrain and whether ``or`` is allowed. A field is of the Multiple category
(``or`` may combine its conditions) or the Range category (never inside an ``or``), and may
accept named lists (``person in circle(2, 8)``). ``validate`` checks a parsed tree against
it and raises ``InvalidFilterError`` listing every broken rule in ``reasons``.

For implementations: ``conditions`` lists the conditions of an ``and``-only filter,
``conjuncts`` the items of the top-level ``and``, ``leaves`` every condition of any filter,
``conditions_for`` the conditions on one
field among them, ``date_range`` turns date bounds into an inclusive range, and
``matches`` evaluates any filter against one record.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import NoReturn

from workhooks.domain.filters import (
    And,
    Condition,
    Constant,
    InList,
    Node,
    Operator,
    Or,
    is_identifier,
    parse,
    render_constant,
)
from workhooks.errors import InvalidFilterError

__all__ = [
    "DELIVERIES_FILTER",
    "WEBHOOKS_FILTER",
    "WORK_INTERRUPTIONS_FILTER",
    "FieldCategory",
    "FilterField",
    "FilterSpec",
    "ValueKind",
    "conditions",
    "conditions_for",
    "conjuncts",
    "date_range",
    "leaves",
    "matches",
    "parse_filter",
    "validate",
]

_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME_RE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


class ValueKind(StrEnum):
    """The type of the constants a field accepts; dates are ``'YYYY-MM-DD'`` strings."""

    INT = "int"
    STR = "str"
    BOOL = "bool"
    DATE = "date"
    DATETIME = "datetime"
    ENUM = "enum"


def _is_int64(value: Constant) -> bool:
    """Whether ``value`` is an integer a 64-bit column can hold (ids are stored so)."""
    return isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63


class FieldCategory(StrEnum):
    """How a field combines: ``or`` may join Multiple conditions; a Range is never in an ``or``."""

    MULTIPLE = "Multiple"
    RANGE = "Range"


def _as_date(value: Constant) -> date | None:
    """The date a ``'YYYY-MM-DD'`` constant names, or ``None`` if it is not a valid date."""
    if not isinstance(value, str) or _DATE_RE.fullmatch(value) is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _as_datetime(value: Constant) -> datetime | None:
    """The instant an ISO 8601 constant with a UTC offset names (``Z`` allowed), or ``None``."""
    if not isinstance(value, str) or _DATETIME_RE.fullmatch(value) is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        # An instant whose UTC time falls outside years 1 to 9999 names no stored time.
        parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return parsed if parsed.tzinfo is not None else None


def _error(message: str, reasons: tuple[str, ...]) -> InvalidFilterError:
    return InvalidFilterError(message, reasons=reasons)


@dataclass(frozen=True, slots=True, kw_only=True)
class FilterField:
    """One filterable field: its name, value kind, allowed operators, enum ``choices``, its
    category and the names of lists it accepts besides a plain one (``circle`` in
    ``person in circle(2, 8)``)."""

    name: str
    kind: ValueKind
    operators: tuple[Operator, ...]
    choices: tuple[str, ...] = ()
    category: FieldCategory = FieldCategory.MULTIPLE
    list_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not is_identifier(self.name):
            raise ValueError(f"filter field name {self.name!r} is not a valid identifier")
        if not self.operators:
            raise ValueError(f"filter field {self.name!r} needs at least one operator")
        if (self.kind is ValueKind.ENUM) != bool(self.choices):
            raise ValueError(f"filter field {self.name!r}: choices are required for enums only")

    def problem(self, value: Constant) -> str | None:
        """Why ``value`` is not acceptable for this field, or ``None`` if it is."""
        kind = self.kind
        if kind is ValueKind.INT and _is_int64(value):
            return None
        if kind is ValueKind.INT and isinstance(value, int) and not isinstance(value, bool):
            return f"Filter field {self.name!r} expects an integer of 64 bits, got {value}"
        if kind is ValueKind.BOOL and isinstance(value, bool):
            return None
        if kind is ValueKind.STR and isinstance(value, str):
            return None
        if kind is ValueKind.DATE and _as_date(value) is not None:
            return None
        if kind is ValueKind.DATETIME and _as_datetime(value) is not None:
            return None
        if kind is ValueKind.ENUM and isinstance(value, str) and value in self.choices:
            return None
        got = render_constant(value)
        return f"Filter field {self.name!r} expects {self._expected()}, got {got}"

    def _expected(self) -> str:
        if self.kind is ValueKind.ENUM:
            return "one of " + ", ".join(render_constant(choice) for choice in self.choices)
        return {
            ValueKind.INT: "an integer",
            ValueKind.STR: "a 'string'",
            ValueKind.BOOL: "true or false",
            ValueKind.DATE: "a valid date as 'YYYY-MM-DD'",
            ValueKind.DATETIME: "an ISO 8601 time with offset, e.g. '2026-01-05T09:00:00Z'",
        }[self.kind]

    def convert(self, value: Constant) -> int | str | bool | date | datetime:
        """``value`` as this field's Python value (``date``/``datetime`` where so declared)."""
        problem = self.problem(value)
        if problem is not None:
            raise _error(problem, (problem,))
        if self.kind is ValueKind.DATE:
            return _as_date(value) or value
        if self.kind is ValueKind.DATETIME:
            return _as_datetime(value) or value
        return value


@dataclass(frozen=True, slots=True, kw_only=True)
class FilterSpec:
    """The filters one collection (``name``) accepts."""

    name: str
    fields: tuple[FilterField, ...]
    required: frozenset[str] = frozenset()
    allow_or: bool = True

    def __post_init__(self) -> None:
        names = [field.name for field in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"filter spec {self.name!r} declares a field twice")
        if not self.required <= set(names):
            raise ValueError(f"filter spec {self.name!r} requires an undeclared field")

    def field(self, name: str) -> FilterField | None:
        """The declaration of field ``name``, or ``None`` if the collection has no such field."""
        return next((field for field in self.fields if field.name == name), None)

    def validate(self, node: Node) -> Node:
        """Same as ``validate(node, self)``."""
        return validate(node, self)

    def parse(self, text: str) -> Node:
        """Same as ``parse_filter(text, self)``."""
        return parse_filter(text, self)


def validate(node: Node, spec: FilterSpec) -> Node:
    """Return ``node`` unchanged if ``spec`` accepts it; else raise ``InvalidFilterError``.

    Checks unknown fields, operators a field does not allow, constants of the wrong kind,
    ``or`` where it is not allowed, and required fields: a required field must be
    constrained in every alternative of the filter. ``reasons`` lists every problem found.
    """
    reasons: list[str] = []
    _collect(node, spec, reasons)
    for name in sorted(spec.required):
        if not _constrains(node, name):
            reasons.append(f"Required filter field {name!r} is missing")
    if reasons:
        unique = tuple(dict.fromkeys(reasons))
        raise _error(f"Invalid filter for {spec.name}: " + "; ".join(unique), unique)
    return node


def parse_filter(text: str, spec: FilterSpec) -> Node:
    """Parse ``text`` and validate it against ``spec``."""
    return validate(parse(text), spec)


def _collect(node: Node, spec: FilterSpec, reasons: list[str]) -> None:
    if isinstance(node, Or) and not spec.allow_or:
        reasons.append(f"Filters for {spec.name} cannot use 'or'; combine conditions with 'and'")
    elif isinstance(node, Or):
        reasons.extend(_ranges_in_or(node, spec))
    if isinstance(node, And | Or):
        for item in node.items:
            _collect(item, spec, reasons)
        return
    reasons.extend(_condition_problems(node, spec))


def _ranges_in_or(node: Or, spec: FilterSpec) -> list[str]:
    """A reason for each Range field used inside ``node``."""
    used = {condition.field for condition in leaves(node)}
    ranges = [f for f in spec.fields if f.category is FieldCategory.RANGE and f.name in used]
    multiple = " or ".join(
        repr(f.name) for f in spec.fields if f.category is FieldCategory.MULTIPLE
    )
    return [
        f"Filter field {field.name!r} is a Range field and cannot be used inside 'or'; "
        f"'or' combines conditions on {multiple}"
        for field in ranges
    ]


def leaves(node: Node) -> list[Condition]:
    """Every condition of a filter, in order, whatever its ``and``/``or`` grouping."""
    if isinstance(node, And | Or):
        return [leaf for item in node.items for leaf in leaves(item)]
    return [node]


def _list_name_problem(condition: InList, field: FilterField) -> str | None:
    name = condition.list_name
    if name is None or name in field.list_names:
        return None
    if not field.list_names:
        return f"Filter field {field.name!r} takes a plain list (...), not {name}(...)"
    allowed = ", ".join(f"{n}(...)" for n in field.list_names)
    return f"Unknown list {name}(...) for filter field {field.name!r}; use (...) or {allowed}"


def _condition_problems(condition: Condition, spec: FilterSpec) -> list[str]:
    field = spec.field(condition.field)
    if field is None:
        allowed = ", ".join(field.name for field in spec.fields)
        return [f"Unknown filter field {condition.field!r}; allowed fields: {allowed}"]
    op = Operator.IN if isinstance(condition, InList) else condition.op
    problems: list[str] = []
    if op not in field.operators:
        allowed = ", ".join(operator.value for operator in field.operators)
        problems.append(
            f"Operator {op.value!r} is not allowed for filter field {field.name!r}; "
            f"allowed operators: {allowed}"
        )
    if isinstance(condition, InList) and (problem := _list_name_problem(condition, field)):
        problems.append(problem)
    values = condition.values if isinstance(condition, InList) else (condition.value,)
    problems.extend(problem for value in values if (problem := field.problem(value)))
    return problems


def _constrains(node: Node, name: str) -> bool:
    """Whether every way ``node`` can match puts a condition on field ``name``."""
    if isinstance(node, And):
        return any(_constrains(item, name) for item in node.items)
    if isinstance(node, Or):
        return all(_constrains(item, name) for item in node.items)
    return node.field == name


def conditions(node: Node) -> list[Condition]:
    """The conditions of a conjunction (``and`` at any grouping), in order.

    Raises ``InvalidFilterError`` when the filter uses ``or``: such a filter is not a plain
    list of constraints; evaluate it with ``matches`` instead.
    """
    if isinstance(node, Or):
        reason = "This filter cannot use 'or'; combine conditions with 'and'"
        raise _error(reason, (reason,))
    if isinstance(node, And):
        return [condition for item in node.items for condition in conditions(item)]
    return [node]


def conjuncts(node: Node) -> list[Condition | Or]:
    """The items of the top-level ``and`` (at any grouping): conditions and ``or`` groups."""
    if isinstance(node, And):
        return [item for part in node.items for item in conjuncts(part)]
    return [node]


def conditions_for(node: Node, field: str) -> list[Condition]:
    """The conditions on ``field`` among the top-level ``and`` items, in order.

    ``or`` groups on other fields are passed over; raises ``InvalidFilterError`` when
    ``field`` is used inside an ``or``, where it is not a plain constraint.
    """
    found: list[Condition] = []
    for item in conjuncts(node):
        if isinstance(item, Or):
            if any(leaf.field == field for leaf in leaves(item)):
                reason = f"Filter field {field!r} cannot be used inside 'or'"
                raise _error(reason, (reason,))
        elif item.field == field:
            found.append(item)
    return found


def matches(node: Node, record: Mapping[str, Constant]) -> bool:
    """Tell whether ``record`` (field name to value) satisfies the filter.

    A missing field fails its condition. Values only match constants of the same type
    (``True`` never equals ``1``); ``ge`` and ``le`` order ints and strings, so ISO dates
    given as ``YYYY-MM-DD`` strings compare correctly.
    """
    if isinstance(node, And):
        return all(matches(item, record) for item in node.items)
    if isinstance(node, Or):
        return any(matches(item, record) for item in node.items)
    if node.field not in record:
        return False
    actual = record[node.field]
    if isinstance(node, InList):
        return any(_order(actual, value) == 0 for value in node.values)
    order = _order(actual, node.value)
    if order is None:
        return False
    return {Operator.EQ: order == 0, Operator.GE: order >= 0, Operator.LE: order <= 0}[node.op]


def _order(actual: Constant, expected: Constant) -> int | None:
    """-1, 0 or 1 comparing two constants of the same type; ``None`` if the types differ."""
    if type(actual) is not type(expected):
        return None
    if isinstance(actual, str) and isinstance(expected, str):
        return (actual > expected) - (actual < expected)
    if isinstance(actual, int) and isinstance(expected, int):  # pragma: no branch
        return (actual > expected) - (actual < expected)
    # Constants are str, int or bool (an int): two of one type never get here.
    return None  # pragma: no cover


def date_range(
    node: Node,
    field: str = "date",
    *,
    max_span: timedelta | None = None,
    open_end: date | None = None,
) -> tuple[date, date] | None:
    """The inclusive ``(first, last)`` dates a conjunctive filter selects on ``field``.

    ``ge`` sets the first date, ``le`` the last, ``eq`` both, ``in`` the earliest and latest
    listed; several bounds narrow the range; without a last date, ``open_end`` is the last
    (when it is ``None``, a last date is required). Returns ``None`` if ``field`` is not
    constrained. Raises ``InvalidFilterError`` if ``field`` is used inside an ``or``, a
    value is not a valid date, a bound is missing, the range is empty, or ``last - first``
    exceeds ``max_span``.
    """
    found = conditions_for(node, field)
    if not found:
        return None
    first, last = _narrow([_bounds(condition) for condition in found])
    last = open_end if last is None else last
    if first is None or last is None:
        missing = "first date (ge or eq)" if first is None else "last date (le or eq)"
        _fail(f"Filter on {field!r} needs a {missing}")
    if first > last:
        _fail(f"Filter on {field!r} selects no dates: {first} is after {last}")
    if max_span is not None and last - first > max_span:
        _fail(
            f"Filter on {field!r} spans {(last - first).days} days from {first} to {last}; "
            f"at most {max_span.days} days are allowed"
        )
    return first, last


def _narrow(bounds: list[tuple[date | None, date | None]]) -> tuple[date | None, date | None]:
    """The latest of the first dates and the earliest of the last dates."""
    firsts = [low for low, _ in bounds if low is not None]
    lasts = [high for _, high in bounds if high is not None]
    return (max(firsts) if firsts else None), (min(lasts) if lasts else None)


def _bounds(condition: Condition) -> tuple[date | None, date | None]:
    values = condition.values if isinstance(condition, InList) else (condition.value,)
    dates: list[date] = []
    for value in values:
        parsed = _as_date(value)
        if parsed is None:
            _fail(f"Filter on {condition.field!r}: {render_constant(value)} is not a valid date")
        dates.append(parsed)
    if isinstance(condition, InList):
        return min(dates), max(dates)
    only = dates[0]
    return {
        Operator.EQ: (only, only),
        Operator.GE: (only, None),
        Operator.LE: (None, only),
    }[condition.op]


def _fail(reason: str) -> NoReturn:
    raise _error(reason, (reason,))


WEBHOOKS_FILTER = FilterSpec(
    name="webhooks",
    fields=(
        FilterField(
            name="status",
            kind=ValueKind.ENUM,
            operators=(Operator.EQ, Operator.IN),
            choices=("Enabled", "Disabled"),
        ),
        FilterField(
            name="collection-name", kind=ValueKind.STR, operators=(Operator.EQ, Operator.IN)
        ),
    ),
    allow_or=True,
)
"""Filters on ``GET /webhooks``: ``status`` and ``collection-name``, ``or`` allowed."""

WORK_INTERRUPTIONS_FILTER = FilterSpec(
    name="work-interruptions",
    fields=(
        FilterField(
            name="date",
            kind=ValueKind.DATE,
            operators=(Operator.EQ, Operator.GE, Operator.LE),
            category=FieldCategory.RANGE,
        ),
        FilterField(
            name="person",
            kind=ValueKind.INT,
            operators=(Operator.EQ, Operator.IN),
            list_names=("circle", "org-group"),
        ),
    ),
    required=frozenset({"date"}),
    allow_or=True,
)
"""Filters on work interruptions: ``date`` (required, a Range field) and ``person`` (a Multiple
field: ``or`` may combine its conditions; ``circle(...)`` and ``org-group(...)`` lists)."""

DELIVERIES_FILTER = FilterSpec(
    name="deliveries",
    fields=(
        FilterField(
            name="status",
            kind=ValueKind.ENUM,
            operators=(Operator.EQ, Operator.IN),
            choices=("Succeeded", "Failed"),
        ),
        FilterField(
            name="lastAttemptAt", kind=ValueKind.DATETIME, operators=(Operator.GE, Operator.LE)
        ),
    ),
    allow_or=False,
)
"""Filters on a webhook's delivery history: ``status`` and a ``lastAttemptAt`` range."""
