"""SQL over the store: DuckDB runs the query on Arrow tables read from ArcticDB and the catalog.

The query is parsed first (DuckDB's own parser), the symbols, days, times and columns each view
needs are taken from its WHERE clauses (``oss20.query.scope``), and only those are read
(``oss20.query.views``). DuckDB then runs the unchanged query, with times in America/New_York.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import duckdb
import pandas as pd

from oss20.config import Settings
from oss20.query.scope import Scope, scopes
from oss20.query.views import Reads, UnknownSymbol, read_view, view_columns
from oss20.schema import TZ

__all__ = ["Answer", "Plan", "SqlError", "UnknownSymbol", "explain", "run"]


class SqlError(ValueError):
    """The query cannot be parsed or run; the message says why, in DuckDB's words."""


@dataclass
class Answer:
    """A query's result and what it read (per view: the scope, the keys and the rows)."""

    frame: pd.DataFrame
    scopes: dict[str, Scope]
    reads: Reads


@dataclass
class Plan:
    """What a query would read from the store, and DuckDB's physical plan over it."""

    reads: Reads
    physical: str

    def __repr__(self) -> str:
        lines = [
            f"{view}: {len(names)} stored keys, {self.reads.rows[view]:,} rows read"
            for view, names in self.reads.keys.items()
        ]
        return "\n".join([*lines, self.physical])


def run(query: str, settings: Settings) -> Answer:
    """Run ``query`` over the store ``settings`` name; raises ``SqlError`` or ``UnknownSymbol``."""
    connection, found, reads = _prepared(query, settings)
    try:
        frame = connection.execute(query).df()
    except duckdb.Error as error:
        raise SqlError(_explained(error, settings)) from None
    finally:
        connection.close()
    return Answer(frame, found, reads)


def explain(query: str, settings: Settings) -> Plan:
    """The reads ``query`` causes and DuckDB's physical plan of it, without running it."""
    connection, _, reads = _prepared(query, settings)
    try:
        rows = connection.execute("EXPLAIN " + query).fetchall()
    except duckdb.Error as error:
        raise SqlError(_explained(error, settings)) from None
    finally:
        connection.close()
    return Plan(reads, "\n".join(str(row[1]) for row in rows))


def _prepared(query: str, settings: Settings) -> tuple[duckdb.DuckDBPyConnection, dict[str, Scope], Reads]:
    """A DuckDB connection with every view ``query`` reads registered, read as far as its scope."""
    tree = _parse(query)
    columns = view_columns(settings.resolved_arctic_uri)
    found = scopes(tree, set(columns), columns)
    reads = Reads()
    connection = duckdb.connect()
    connection.execute(f"SET TimeZone = '{TZ}'")
    for view, scope in found.items():
        connection.register(view, read_view(view, scope, settings, reads))
    return connection, found, reads


def _parse(query: str) -> dict[str, object]:
    if not query.strip():
        raise SqlError("the query is empty")
    tree = json.loads(duckdb.execute("SELECT json_serialize_sql(?)", [query]).fetchone()[0])  # type: ignore[index]
    if tree.get("error"):
        raise SqlError(f"bad SQL: {tree.get('error_message', 'cannot parse')}")
    return dict(tree)


def _explained(error: duckdb.Error, settings: Settings) -> str:
    """DuckDB's message, with the store's views listed when it names an unknown table."""
    message = str(error).strip()
    if isinstance(error, duckdb.CatalogException):
        views = ", ".join(sorted(view_columns(settings.resolved_arctic_uri)))
        message += f"\nThe store's views are: {views}."
    return message
