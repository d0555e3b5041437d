"""oss20: an open tick-data platform for DTN IQFeed users.

The library collects ticks from IQFeed (or the bundled IQFeed-protocol simulator), validates,
stores and bars them. Everything here is usable from Jupyter; dashboards and jobs build on it.
The verbs a notebook starts with: ``oss20.ticks(...)``, ``oss20.bars(...)`` and ``oss20.quality(...)``.
"""

from oss20.api import bars, quality, ticks

__version__ = "0.1.0"
__all__ = ["bars", "quality", "ticks"]
