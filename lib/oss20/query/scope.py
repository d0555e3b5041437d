"""What a SQL query needs from each store view: symbols, days, times and columns, read from
DuckDB's parse tree (``json_serialize_sql``) so only that is read from ArcticDB.

Pure: the tree in, one ``Scope`` per view out. A predicate is pushed down only where dropping the
rows it rejects cannot change the answer: conjuncts of a WHERE (ANDs, and ORs of one column's
values) in the SELECT whose FROM names the view. Anything else leaves the view unrestricted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from oss20.schema import TZ

Node = dict[str, Any]

LOWER = {"COMPARE_GREATERTHAN", "COMPARE_GREATERTHANOREQUALTO"}
UPPER = {"COMPARE_LESSTHAN", "COMPARE_LESSTHANOREQUALTO"}
FLIPPED = {
    "COMPARE_GREATERTHAN": "COMPARE_LESSTHAN",
    "COMPARE_GREATERTHANOREQUALTO": "COMPARE_LESSTHANOREQUALTO",
    "COMPARE_LESSTHAN": "COMPARE_GREATERTHAN",
    "COMPARE_LESSTHANOREQUALTO": "COMPARE_GREATERTHANOREQUALTO",
    "COMPARE_EQUAL": "COMPARE_EQUAL",
}
KEYED = ("symbol", "interval")
"""Columns whose values pick storage keys."""
TIMED = ("timestamp", "day")
"""Columns whose bounds pick days (and, for ``timestamp``, the rows read within them)."""


@dataclass(frozen=True)
class Scope:
    """What one view must read; ``None`` means no restriction was found."""

    symbols: frozenset[str] | None = None
    intervals: frozenset[str] | None = None
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    first_day: dt.date | None = None
    last_day: dt.date | None = None
    columns: frozenset[str] | None = None

    def union(self, other: Scope) -> Scope:
        """The scope that serves two references of one view (each restriction kept only if both have it)."""
        return Scope(
            _either(self.symbols, other.symbols),
            _either(self.intervals, other.intervals),
            _outer(self.start, other.start, min),
            _outer(self.end, other.end, max),
            _outer(self.first_day, other.first_day, min),
            _outer(self.last_day, other.last_day, max),
            _either(self.columns, other.columns),
        )

    def days(self) -> tuple[dt.date | None, dt.date | None]:
        """The first and last day the scope can touch (from ``day`` and ``timestamp`` bounds)."""
        first = _outer_days(self.first_day, self.start, max)
        last = _outer_days(self.last_day, self.end, min)
        return first, last


@dataclass
class _Bounds:
    values: dict[str, frozenset[str]] = field(default_factory=dict)
    lower: dict[str, pd.Timestamp] = field(default_factory=dict)
    upper: dict[str, pd.Timestamp] = field(default_factory=dict)


def scopes(tree: Node, views: set[str], columns_of: dict[str, set[str]]) -> dict[str, Scope]:
    """One scope per view of ``views`` the parsed statement(s) read; ``columns_of[view]`` lists the
    view's columns (to tell which bare column names can belong to it)."""
    used = _column_names(tree)
    found: dict[str, Scope] = {}
    for select in _selects(tree):
        tables = [t for t in _base_tables(select.get("from_table")) if t["table_name"].lower() in views]
        if not tables:
            continue
        bounds = _conjunct_bounds(select.get("where_clause"), tables, columns_of)
        for table in tables:
            view = table["table_name"].lower()
            alias = _alias(table)
            scope = _scope(bounds.get(alias, _Bounds()), used, columns_of[view])
            found[view] = found[view].union(scope) if view in found else scope
    return found


def _scope(bounds: _Bounds, used: set[str] | None, columns: set[str]) -> Scope:
    start, end = bounds.lower.get("timestamp"), bounds.upper.get("timestamp")
    first, last = bounds.lower.get("day"), bounds.upper.get("day")
    return Scope(
        symbols=bounds.values.get("symbol"),
        intervals=bounds.values.get("interval"),
        start=start,
        end=end,
        first_day=first.date() if first is not None else None,
        last_day=last.date() if last is not None else None,
        columns=None if used is None else frozenset(used & columns),
    )


def _conjunct_bounds(
    where: Node | None, tables: list[Node], columns_of: dict[str, set[str]]
) -> dict[str, _Bounds]:
    """Per table alias, the key values and time bounds the WHERE's conjuncts demand."""
    owners = {_alias(t): columns_of[t["table_name"].lower()] for t in tables}
    found: dict[str, _Bounds] = {alias: _Bounds() for alias in owners}
    for conjunct in _conjuncts(where):
        for alias, column, kind, value in _restrictions(conjunct, owners):
            bounds = found[alias]
            if kind == "values":
                held = bounds.values.get(column)
                bounds.values[column] = value if held is None else held & value
            elif kind == "lower":
                bounds.lower[column] = max(value, bounds.lower.get(column, value))
            else:
                bounds.upper[column] = min(value, bounds.upper.get(column, value))
    return found


def _restrictions(node: Node, owners: dict[str, set[str]]) -> Iterator[tuple[str, str, str, Any]]:
    """(alias, column, "values" | "lower" | "upper", value) of one conjunct, if it is one we read."""
    kind = node.get("type", "")
    if kind == "CONJUNCTION_OR":
        yield from _either_values(node, owners)
    elif kind == "COMPARE_IN":
        target = _column(node["children"][0], owners)
        values = [_text(c) for c in node["children"][1:]]
        if target and target[1] in KEYED and all(v is not None for v in values):
            yield (*target, "values", frozenset(str(v).upper() for v in values))
    elif kind == "COMPARE_BETWEEN":
        target = _column(node["input"], owners)
        low, high = _stamp(node["lower"]), _stamp(node["upper"])
        if target and target[1] in TIMED and low is not None and high is not None:
            yield (*target, "lower", low)
            yield (*target, "upper", _day_end(high) if target[1] == "day" else high)
    elif kind in FLIPPED:
        yield from _comparison(node, owners)


def _comparison(node: Node, owners: dict[str, set[str]]) -> Iterator[tuple[str, str, str, Any]]:
    kind = node["type"]
    target, constant = _column(node["left"], owners), node["right"]
    if target is None:
        target, constant, kind = _column(node["right"], owners), node["left"], FLIPPED[kind]
    if target is None:
        return
    alias, column = target
    if column in KEYED and kind == "COMPARE_EQUAL" and (text := _text(constant)) is not None:
        yield alias, column, "values", frozenset([str(text).upper()])
    elif column in TIMED and (stamp := _stamp(constant)) is not None:
        if kind in LOWER or kind == "COMPARE_EQUAL":
            yield alias, column, "lower", stamp
        if kind in UPPER or kind == "COMPARE_EQUAL":
            yield alias, column, "upper", _day_end(stamp) if column == "day" else stamp


def _either_values(node: Node, owners: dict[str, set[str]]) -> Iterator[tuple[str, str, str, Any]]:
    """``symbol = 'A' OR symbol = 'B'``: the union of one key column's values, else nothing."""
    parts = [list(_restrictions(child, owners)) for child in node["children"]]
    if not parts or any(len(p) != 1 or p[0][2] != "values" for p in parts):
        return
    targets = {(p[0][0], p[0][1]) for p in parts}
    if len(targets) == 1:
        alias, column = targets.pop()
        yield alias, column, "values", frozenset().union(*(p[0][3] for p in parts))


def _column(node: Node, owners: dict[str, set[str]]) -> tuple[str, str] | None:
    """(alias, column) when ``node`` names a column of exactly one of the tables."""
    if node.get("class") != "COLUMN_REF":
        return None
    names = [n.lower() for n in node["column_names"]]
    column = names[-1]
    if len(names) == 2:
        return (names[0], column) if names[0] in owners else None
    holders = [alias for alias, columns in owners.items() if column in columns]
    return (holders[0], column) if len(holders) == 1 else None


def _text(node: Node) -> object | None:
    """A constant's value (through casts), or None when ``node`` is not a constant."""
    while node.get("class") == "CAST":
        node = node["child"]
    if node.get("class") != "CONSTANT":
        return None
    literal = node.get("literal") or node.get("value") or {}
    return literal.get("text", literal.get("value"))


def _stamp(node: Node) -> pd.Timestamp | None:
    """A constant as a time in America/New_York (a bare date is its midnight)."""
    text = _text(node)
    if text is None:
        return None
    try:
        stamp = pd.Timestamp(str(text))
    except ValueError:
        return None
    return stamp.tz_localize(TZ) if stamp.tzinfo is None else stamp.tz_convert(TZ)


def _day_end(stamp: pd.Timestamp) -> pd.Timestamp:
    return stamp.normalize() + pd.Timedelta(days=1) - pd.Timedelta(1, "ns")


def _conjuncts(where: Node | None) -> Iterator[Node]:
    if where is None:
        return
    if where.get("type") == "CONJUNCTION_AND":
        for child in where["children"]:
            yield from _conjuncts(child)
    else:
        yield where


def _selects(node: object) -> Iterator[Node]:
    """Every SELECT node anywhere in the tree (subqueries, CTEs, set operations)."""
    if isinstance(node, dict):
        if node.get("type") == "SELECT_NODE":
            yield node
        for value in node.values():
            yield from _selects(value)
    elif isinstance(node, list):
        for item in node:
            yield from _selects(item)


def _base_tables(node: Node | None) -> Iterator[Node]:
    """The tables a FROM clause reads directly (through joins, not into subqueries)."""
    if not node:
        return
    if node.get("type") == "BASE_TABLE":
        yield node
    elif node.get("type") == "JOIN":
        yield from _base_tables(node.get("left"))
        yield from _base_tables(node.get("right"))


def _alias(table: Node) -> str:
    return str(table.get("alias") or table["table_name"]).lower()


def _column_names(tree: Node) -> set[str] | None:
    """Every column name the statement mentions, or None when it selects ``*`` (all are needed)."""
    names: set[str] = set()

    def walk(node: object) -> bool:
        if isinstance(node, dict):
            if node.get("class") == "STAR":
                return False
            if node.get("class") == "COLUMN_REF":
                names.add(node["column_names"][-1].lower())
            return all(walk(v) for v in node.values())
        if isinstance(node, list):
            return all(walk(v) for v in node)
        return True

    return names if walk(tree) else None


def _either(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    return None if a is None or b is None else a | b


def _outer(a: Any, b: Any, pick: Any) -> Any:
    return None if a is None or b is None else pick(a, b)


def _outer_days(day: dt.date | None, stamp: pd.Timestamp | None, pick: Any) -> dt.date | None:
    candidates = [d for d in (day, stamp.date() if stamp is not None else None) if d is not None]
    return pick(candidates) if candidates else None
