"""A small thread-safe LRU cache bounded by the total weight of its values: the Market's memory."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class WeightedLRU(Generic[K, V]):
    """Values by key, least recently used dropped first once their total weight passes ``max_weight``.

    ``weigh`` gives a value's weight (default 1 each); a single value heavier than ``max_weight``
    is still kept. ``make`` runs outside the lock, so two threads may both build a missing
    value (the first one stored is kept).
    """

    def __init__(self, max_weight: int, weigh: Callable[[V], int] = lambda _: 1) -> None:
        self.max_weight = max_weight
        self._weigh = weigh
        self._data: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._weight = 0
        self._lock = threading.Lock()

    def get(self, key: K, make: Callable[[], V]) -> V:
        """The value of ``key``, made with ``make()`` and stored if it is not cached."""
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key][0]
        value = make()
        weight = self._weigh(value)
        with self._lock:
            if key not in self._data:
                self._data[key] = (value, weight)
                self._weight += weight
            while self._weight > self.max_weight and len(self._data) > 1:
                _, (_, dropped) = self._data.popitem(last=False)
                self._weight -= dropped
        return value
