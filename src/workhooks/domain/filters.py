"""The Protime ``filter`` grammar: a typed tree, a parser, a canonical renderer and helpers.

Grammar (Protime API docs)::

    expression       = term {"or" term}
    term             = condition {"and" condition}
    condition        = simple-condition | "(" expression ")"
    simple-condition = identifier rel-op factor
    rel-op           = "eq" | "ge" | "le" | "in"
    factor           = constant | list
    list             = [identifier] "(" constant {"," constant} ")"
    constant         = integer | 'string' | 'date as string' | true | false

How the tree represents a filter:

* ``and`` binds tighter than ``or``: ``a eq 1 or b eq 2 and c eq 3`` is
  ``Or(a, And(b, c))``. A chain ``x and y and z`` is one ``And`` with three items.
  Parentheses only group: ``(a eq 1)`` is just the ``Comparison``, while a parenthesised
  ``and`` inside an ``and`` stays a nested ``And`` so that rendering gives back the same tree.
* A constant factor gives a ``Comparison`` (operators ``eq``, ``ge``, ``le``); a list factor
  gives an ``InList`` (operator ``in``), which keeps the optional list name
  (``person in people(1, 2)``). ``in`` needs a list and a list needs ``in``: ``x in 5`` and
  ``x eq (1, 2)`` are rejected, as they have no meaning.
* Constants are plain ``int``, ``str`` and ``bool``. Dates stay strings (``'2024-01-01'``);
  the field declarations in ``workhooks.domain.filter_specs`` convert them. As ``True == 1``
  in Python, ``Comparison`` and ``InList`` compare their constants together with the type.
* Keywords (``and or eq ge le in true false``) are case-insensitive and reserved; identifiers
  (``[A-Za-z_@][A-Za-z0-9_.@-]*``) are case-sensitive. Strings are single-quoted with ``''``
  for a quote inside. Integers are ``-?[0-9]+``.

Every problem with the text raises ``InvalidFilterError`` naming the 0-based character
position and the offending token. The text is at most ``MAX_LENGTH`` characters and
parentheses nest at most ``MAX_NESTING`` levels deep, so no input can exhaust the stack.
Field declarations, validation and helpers that read a filter live in
``workhooks.domain.filter_specs``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import TypeAlias

from workhooks.errors import InvalidFilterError

__all__ = [
    "MAX_LENGTH",
    "MAX_NESTING",
    "And",
    "Comparison",
    "Condition",
    "Constant",
    "InList",
    "Node",
    "Operator",
    "Or",
    "is_identifier",
    "parse",
    "render",
    "render_constant",
]

MAX_LENGTH = 4096
"""The longest filter text ``parse`` accepts, in characters."""

MAX_NESTING = 32
"""The deepest nesting of grouping parentheses ``parse`` accepts."""

Constant: TypeAlias = int | str | bool
"""A constant in a filter; dates are strings in ``YYYY-MM-DD`` form."""

_KEYWORDS = frozenset({"and", "or", "eq", "ge", "le", "in", "true", "false"})
_IDENT_RE = re.compile(r"[A-Za-z_@][A-Za-z0-9_.@-]*")
_INT_RE = re.compile(r"-?[0-9]+")
_WORD_RE = re.compile(r"[A-Za-z0-9_.@-]+")
_CLIP = 40


class Operator(StrEnum):
    """A relational operator; ``in`` is only used by ``InList``, the others by ``Comparison``."""

    EQ = "eq"
    GE = "ge"
    LE = "le"
    IN = "in"


def is_identifier(name: str) -> bool:
    """Tell whether ``name`` can be written as a field or list name (and is not a keyword)."""
    return _IDENT_RE.fullmatch(name) is not None and name.lower() not in _KEYWORDS


def _check_identifier(name: object, what: str) -> None:
    if not isinstance(name, str) or not is_identifier(name):
        raise ValueError(f"{what} {name!r} is not a valid filter identifier")


def _check_constant(value: object) -> None:
    if not isinstance(value, int | str):
        raise TypeError(f"filter constant must be int, str or bool, not {type(value).__name__}")


def _typed(value: Constant) -> tuple[type, Constant]:
    return (type(value), value)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Comparison:
    """``field op value`` with ``op`` one of ``eq``, ``ge``, ``le`` and a single constant."""

    field: str
    op: Operator
    value: Constant

    def __post_init__(self) -> None:
        _check_identifier(self.field, "field")
        if not isinstance(self.op, Operator) or self.op is Operator.IN:
            raise ValueError(f"Comparison needs eq, ge or le, not {self.op!r}; use InList for in")
        _check_constant(self.value)

    def _key(self) -> tuple[str, Operator, tuple[type, Constant]]:
        return (self.field, self.op, _typed(self.value))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Comparison):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class InList:
    """``field in [list_name](v1, v2, ...)``: at least one value, the list name kept if given."""

    field: str
    values: tuple[Constant, ...]
    list_name: str | None = None

    def __post_init__(self) -> None:
        _check_identifier(self.field, "field")
        if self.list_name is not None:
            _check_identifier(self.list_name, "list name")
        if not isinstance(self.values, tuple) or not self.values:
            raise ValueError("InList needs a non-empty tuple of values")
        for value in self.values:
            _check_constant(value)

    def _key(self) -> tuple[str, tuple[tuple[type, Constant], ...], str | None]:
        return (self.field, tuple(_typed(value) for value in self.values), self.list_name)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, InList):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())


@dataclass(frozen=True, slots=True, kw_only=True)
class And:
    """All of ``items`` (at least two) must hold."""

    items: tuple[Node, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.items, tuple) or len(self.items) < 2:
            raise ValueError("And needs a tuple of at least two items")


@dataclass(frozen=True, slots=True, kw_only=True)
class Or:
    """At least one of ``items`` (at least two) must hold."""

    items: tuple[Node, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.items, tuple) or len(self.items) < 2:
            raise ValueError("Or needs a tuple of at least two items")


Condition: TypeAlias = Comparison | InList
"""A leaf of the tree: one condition on one field."""

Node: TypeAlias = Comparison | InList | And | Or
"""Any filter tree."""


# --- lexer -------------------------------------------------------------------------------


class _Kind(Enum):
    IDENT = "identifier"
    KEYWORD = "keyword"
    INT = "integer"
    STRING = "string"
    LPAREN = "("
    RPAREN = ")"
    COMMA = ","
    END = "end"


_PUNCTUATION = {"(": _Kind.LPAREN, ")": _Kind.RPAREN, ",": _Kind.COMMA}


@dataclass(frozen=True, slots=True, kw_only=True)
class _Token:
    kind: _Kind
    text: str
    pos: int
    value: Constant = ""


def _error(reason: str) -> InvalidFilterError:
    return InvalidFilterError(reason, reasons=(reason,))


def _clip(text: str) -> str:
    return text if len(text) <= _CLIP else text[: _CLIP - 1] + "…"


def _tokenize(text: str) -> Iterator[_Token]:
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char.isspace():
            pos += 1
            continue
        if char in _PUNCTUATION:
            token = _Token(kind=_PUNCTUATION[char], text=char, pos=pos)
        elif char == "'":
            token = _string(text, pos)
        else:
            token = _word(text, pos)
        yield token
        pos += len(token.text)
    yield _Token(kind=_Kind.END, text="", pos=len(text))


def _string(text: str, start: int) -> _Token:
    parts: list[str] = []
    pos = start + 1
    while True:
        end = text.find("'", pos)
        if end < 0:
            raise _error(f"Unterminated string starting at position {start}; close it with '")
        parts.append(text[pos:end])
        if not text.startswith("'", end + 1):
            return _Token(
                kind=_Kind.STRING, text=text[start : end + 1], pos=start, value="".join(parts)
            )
        parts.append("'")
        pos = end + 2


def _word(text: str, pos: int) -> _Token:
    match = _WORD_RE.match(text, pos)
    if match is None:
        hint = "; strings use single quotes" if text[pos] == '"' else ""
        raise _error(f"Unexpected character {text[pos]!r} at position {pos}{hint}")
    word = match.group()
    if _INT_RE.fullmatch(word):
        try:
            return _Token(kind=_Kind.INT, text=word, pos=pos, value=int(word))
        except ValueError:  # more digits than the interpreter converts
            raise _error(f"Integer too long at position {pos}") from None
    if word.lower() in _KEYWORDS:
        return _Token(kind=_Kind.KEYWORD, text=word, pos=pos, value=word.lower())
    if _IDENT_RE.fullmatch(word):
        return _Token(kind=_Kind.IDENT, text=word, pos=pos, value=word)
    raise _error(
        f"Invalid token {_clip(word)!r} at position {pos}; "
        "expected a field name, a keyword or an integer"
    )


# --- parser ------------------------------------------------------------------------------

_CONSTANT = "expected a constant (integer, 'string', true or false)"


class _Parser:
    """Recursive descent over the token list; recursion only at grouping parentheses."""

    __slots__ = ("_index", "_tokens")

    def __init__(self, tokens: list[_Token]) -> None:
        self._tokens = tokens
        self._index = 0

    def _peek(self) -> _Token:
        return self._tokens[self._index]

    def _advance(self) -> _Token:
        token = self._tokens[self._index]
        # Every caller checks the kind first, so END is never consumed; kept as a guard.
        if token.kind is not _Kind.END:  # pragma: no branch
            self._index += 1
        return token

    def _accept(self, word: str) -> bool:
        token = self._peek()
        if token.kind is _Kind.KEYWORD and token.value == word:
            self._advance()
            return True
        return False

    def _unexpected(self, expected: str) -> InvalidFilterError:
        token = self._peek()
        found = "end of input" if token.kind is _Kind.END else f"token {_clip(token.text)!r}"
        return _error(f"Unexpected {found} at position {token.pos}; {expected}")

    def parse(self) -> Node:
        node = self._expression(0)
        if self._peek().kind is not _Kind.END:
            raise self._unexpected("expected 'and', 'or' or end of input")
        return node

    def _expression(self, depth: int) -> Node:
        items = [self._term(depth)]
        while self._accept("or"):
            items.append(self._term(depth))
        return items[0] if len(items) == 1 else Or(items=tuple(items))

    def _term(self, depth: int) -> Node:
        items = [self._condition(depth)]
        while self._accept("and"):
            items.append(self._condition(depth))
        return items[0] if len(items) == 1 else And(items=tuple(items))

    def _condition(self, depth: int) -> Node:
        token = self._peek()
        if token.kind is not _Kind.LPAREN:
            return self._simple_condition()
        if depth >= MAX_NESTING:
            raise _error(
                f"Too deeply nested: '(' at position {token.pos} opens level {depth + 1}; "
                f"at most {MAX_NESTING} levels of parentheses are allowed"
            )
        self._advance()
        node = self._expression(depth + 1)
        if self._peek().kind is not _Kind.RPAREN:
            raise self._unexpected("expected 'and', 'or' or ')'")
        self._advance()
        return node

    def _simple_condition(self) -> Condition:
        if self._peek().kind is not _Kind.IDENT:
            raise self._unexpected("expected a field name or '('")
        field = self._advance().text
        token = self._peek()
        if token.kind is not _Kind.KEYWORD or token.value not in ("eq", "ge", "le", "in"):
            raise self._unexpected("expected a comparison operator (eq, ge, le, in)")
        op = Operator(self._advance().text.lower())
        if op is Operator.IN:
            return self._list(field)
        if self._peek().kind in (_Kind.LPAREN, _Kind.IDENT):
            raise self._unexpected(f"{_CONSTANT}; a list needs the 'in' operator")
        return Comparison(field=field, op=op, value=self._constant())

    def _list(self, field: str) -> InList:
        name = self._advance().text if self._peek().kind is _Kind.IDENT else None
        if self._peek().kind is not _Kind.LPAREN:
            expected = "expected '(' to start the list" if name else "expected a list after 'in'"
            raise self._unexpected(expected)
        self._advance()
        values = [self._constant()]
        while self._peek().kind is _Kind.COMMA:
            self._advance()
            values.append(self._constant())
        if self._peek().kind is not _Kind.RPAREN:
            raise self._unexpected("expected ',' or ')'")
        self._advance()
        return InList(field=field, values=tuple(values), list_name=name)

    def _constant(self) -> Constant:
        token = self._peek()
        if token.kind in (_Kind.INT, _Kind.STRING):
            return self._advance().value
        if token.kind is _Kind.KEYWORD and token.value in ("true", "false"):
            return self._advance().value == "true"
        raise self._unexpected(_CONSTANT)


def parse(text: str) -> Node:
    """Parse filter ``text`` into a tree; raise ``InvalidFilterError`` for anything malformed."""
    if len(text) > MAX_LENGTH:
        raise _error(
            f"Filter too long: {len(text)} characters; the text from position {MAX_LENGTH} "
            f"on is past the limit of {MAX_LENGTH} characters"
        )
    return _Parser(list(_tokenize(text))).parse()


# --- renderer ----------------------------------------------------------------------------


def render_constant(value: Constant) -> str:
    """Write one constant as filter text: ``true``, ``-5`` or ``'O''Brien'``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return "'" + value.replace("'", "''") + "'"


def render(node: Node) -> str:
    """Write ``node`` as canonical filter text, so that ``parse(render(node)) == node``.

    Holds for every tree whose text stays within ``MAX_LENGTH`` and ``MAX_NESTING``.
    """
    if isinstance(node, Comparison):
        return f"{node.field} {node.op.value} {render_constant(node.value)}"
    if isinstance(node, InList):
        values = ", ".join(render_constant(value) for value in node.values)
        return f"{node.field} in {node.list_name or ''}({values})"
    if isinstance(node, And):
        return " and ".join(_grouped(item, (And, Or)) for item in node.items)
    return " or ".join(_grouped(item, (Or,)) for item in node.items)


def _grouped(node: Node, needs_parentheses: tuple[type, ...]) -> str:
    text = render(node)
    return f"({text})" if isinstance(node, needs_parentheses) else text
