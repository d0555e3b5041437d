"""The tick identities seen in one symbol-day, as an open-addressing hash table filled by numba.

Tier 1 asks of every live batch "which of these (market center, TickID) did we see before?". A
Python set answers at about a microsecond per tick once it holds a day; this table answers a whole
batch in one compiled pass.
"""

from __future__ import annotations

import numba
import numpy as np

EMPTY = -1
"""Free slot; identities are never negative (``schema.identity`` of valid market center and TickID)."""

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: spreads sequential TickIDs over the table


class IdentitySet:
    """A growing set of non-negative int64 identities."""

    def __init__(self, capacity: int = 1024) -> None:
        self._table = np.full(max(16, 1 << (capacity - 1).bit_length()), EMPTY, np.int64)
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def __contains__(self, identity: object) -> bool:
        if not isinstance(identity, int | np.integer) or identity < 0:
            return False
        return bool(_find(self._table, np.int64(identity)))

    def add(self, ids: np.ndarray) -> np.ndarray:
        """Add ``ids``; return the mask of those already in the set (or earlier in ``ids``)."""
        if len(ids) and int(ids.min()) < 0:
            raise ValueError("identities must not be negative")
        if (self._size + len(ids)) * 2 > len(self._table):
            self._grow(self._size + len(ids))
        repeat = np.empty(len(ids), np.bool_)
        self._size += _add(self._table, ids.astype(np.int64, copy=False), repeat)
        return repeat

    def _grow(self, need: int) -> None:
        capacity = len(self._table)
        while need * 2 > capacity:
            capacity *= 2
        table = np.full(capacity, EMPTY, np.int64)
        _rehash(self._table, table)
        self._table = table


@numba.njit(cache=True, nogil=True)
def _slot(table: np.ndarray, key: np.int64) -> int:
    """The slot holding ``key``, or the free slot where it would go (linear probing)."""
    mask = len(table) - 1
    i = int((np.uint64(key) * _GOLDEN) >> np.uint64(32)) & mask
    while table[i] != EMPTY and table[i] != key:
        i = (i + 1) & mask
    return i


@numba.njit(cache=True, nogil=True)
def _find(table: np.ndarray, key: np.int64) -> bool:
    return table[_slot(table, key)] == key


@numba.njit(cache=True, nogil=True)
def _add(table: np.ndarray, ids: np.ndarray, repeat: np.ndarray) -> int:
    added = 0
    for j in range(len(ids)):
        i = _slot(table, ids[j])
        repeat[j] = table[i] == ids[j]
        if not repeat[j]:
            table[i] = ids[j]
            added += 1
    return added


@numba.njit(cache=True, nogil=True)
def _rehash(old: np.ndarray, new: np.ndarray) -> None:
    for key in old:
        if key != EMPTY:
            new[_slot(new, key)] = key
