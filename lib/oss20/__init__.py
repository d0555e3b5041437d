"""oss20: an open tick-data platform for DTN IQFeed users.

The library collects ticks from IQFeed (or the bundled IQFeed-protocol simulator), validates,
stores and bars them. Everything here is usable from Jupyter; dashboards and jobs build on it.
The verbs a notebook starts with: ``oss20.ticks(...)``, ``oss20.bars(...)``, ``oss20.quality(...)``
and ``oss20.gaps(...)``.
"""

from oss20.api import bars, gaps, quality, ticks

__version__ = "0.1.0"
__all__ = ["bars", "gaps", "quality", "ticks"]
