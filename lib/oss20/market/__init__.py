"""A deterministic synthetic US equity market: the ground truth the IQFeed simulator serves.

``Market(seed, activity)`` turns (symbol, trading day) into every Level 1 update of the
extended day (04:00-20:00 ET): trades with the quote in force, and the quote changes between
them. The same (seed, symbol, day, activity) always gives the same frames, TickIDs included,
in any process, so whatever a collector stored can be compared tick by tick with the truth.

How a day is made (numba kernels, no per-trade Python loops):

- Daily path (``path``): per (seed, symbol) one log-price walk over every NYSE session,
  anchored at ``Instrument.price`` on 2025-01-02; the opening print and official close are
  that path rounded to the day's tick.
- Events (``intraday``, ``day``): quotes and trades arrive as Poisson streams, U-shaped in
  regular hours and thin outside them; their cumulative intensity is the business time of a
  Brownian bridge for the mid (prev close -> open -> close -> close).
- Two random streams (``_kernels``): the core draws trade events, their anchor quotes and every
  print; the detail stream only fills in the other quotes, quote sizes and TickIDs. Daily bars
  run the core alone, so they are cheap and agree exactly with the trades.
- Trades hit the quote in force; off-exchange NTRF prints are often sub-penny; intermarket
  sweeps walk the book across lit venues in one microsecond; TickIDs are per (symbol, day,
  market center) sequences with gaps, as in real IQFeed data.

See ../shared/IQFEED_PROTOCOL.md ("Tick identity, and what real trade data looks like"). Market
center and trade condition codes beyond the ones named there are ours (``universe``).
"""

from oss20.market.market import Market
from oss20.market.universe import (
    MARKET_CENTERS,
    SECURITY_TYPE_EQUITY,
    TRADE_CONDITIONS,
    UNIVERSE,
    Instrument,
)

__all__ = ["MARKET_CENTERS", "SECURITY_TYPE_EQUITY", "TRADE_CONDITIONS", "UNIVERSE", "Instrument", "Market"]
