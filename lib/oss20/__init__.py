"""oss20: an open tick-data platform for DTN IQFeed users.

The library collects ticks from IQFeed (or the bundled IQFeed-protocol simulator), validates,
stores and bars them. Everything here is usable from Jupyter; dashboards and jobs build on it.
A notebook starts with ``oss20.connect()`` (embedded storage under ./data by default) and the
verbs ``ticks``, ``bars``, ``quality``, ``gaps``, ``coverage``, ``sql``, ``fill_gaps``,
``simulate`` and ``live``; ``oss20.charts`` draws bars and coverage.
"""

from oss20.api import bars, coverage, fill_gaps, gaps, live, quality, simulate, sql, ticks
from oss20.connection import connect

__version__ = "0.1.0"
__all__ = ["bars", "connect", "coverage", "fill_gaps", "gaps", "live", "quality", "simulate", "sql", "ticks"]
