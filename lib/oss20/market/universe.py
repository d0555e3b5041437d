"""The synthetic universe: instruments, market centers and their share of prints, trade conditions.

Reference data only; the simulator's SLM/STC tables and the fundamental message serve it as is.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

SECURITY_TYPE_EQUITY = 1
"""IQFeed's SST code for equities; ETFs are listed as equities too."""


@dataclass(frozen=True)
class Instrument:
    """One tradable symbol and the parameters its synthetic days are drawn from."""

    symbol: str
    name: str
    asset_class: str  # "equity" or "etf"
    price: float  # price level (the close) on 2025-01-02
    trades_per_day: int  # regular-session trades per full day at activity 1.0
    volatility: float  # daily sigma of log returns
    listing: int  # listing market center code (see MARKET_CENTERS)


# Market centers. 5, 11 and 19 are the codes seen in the real feed (IQFEED_PROTOCOL.md);
# the others are ours, chosen for the remaining venues seen printing AAPL.
MARKET_CENTERS: dict[int, str] = {
    5: "NASDAQ",
    6: "NYSE",
    7: "NYSE American",
    8: "NASDAQ BX",
    9: "NASDAQ PSX",
    10: "NYSE National (NSX)",
    11: "NYSE Arca",
    12: "Cboe BZX",
    13: "Cboe BYX",
    14: "Cboe EDGX",
    15: "Cboe EDGA",
    16: "IEX",
    17: "MEMX",
    18: "MIAX Pearl",
    19: "NTRF (FINRA/Nasdaq TRF Carteret)",
    20: "NYSE TRF (FINRA/NYSE TRF)",
    21: "NTRF Chicago (FINRA/Nasdaq TRF Chicago)",
    22: "NYSE Chicago (CHX)",
}

# Trade conditions, two hex digits each; a print's conditions are its codes concatenated in
# ascending order ("3D87", "0517", "1787"). 01, 05, 17, 3D and 87 are DTN's codes as seen in
# the real feed; every other code here is ours (the simulator's STC table serves this dict).
TRADE_CONDITIONS: dict[str, str] = {
    "01": "REGULAR",
    "05": "AVERAGE PRICE TRADE",
    "17": "FORM T (EXTENDED HOURS)",
    "3D": "INTERMARKET SWEEP",
    "87": "ODD LOT",
    # ours:
    "02": "ACQUISITION",
    "03": "BUNCHED TRADE",
    "04": "CASH SALE",
    "06": "NEXT DAY",
    "07": "SELLER",
    "08": "DERIVATIVELY PRICED",
    "09": "PRIOR REFERENCE PRICE",
    "1A": "OPENING PRINT (MARKET CENTER OPENING TRADE)",
    "1B": "REOPENING PRINT",
    "1C": "CLOSING PRINT (MARKET CENTER OFFICIAL CLOSE)",
    "20": "SOLD OUT OF SEQUENCE",
    "21": "SOLD LAST",
    "29": "TRADE THROUGH EXEMPT",
    "30": "CONTINGENT TRADE",
    "31": "QUALIFIED CONTINGENT TRADE",
}

_NASDAQ, _NYSE, _ARCA = 5, 6, 11

UNIVERSE: dict[str, Instrument] = {
    i.symbol: i
    for i in (
        Instrument("AAPL", "APPLE INC", "equity", 243.85, 200_000, 0.016, _NASDAQ),
        Instrument("MSFT", "MICROSOFT CORP", "equity", 418.58, 120_000, 0.014, _NASDAQ),
        Instrument("NVDA", "NVIDIA CORP", "equity", 138.31, 220_000, 0.030, _NASDAQ),
        Instrument("AMZN", "AMAZON.COM INC", "equity", 220.22, 120_000, 0.020, _NASDAQ),
        Instrument("GOOGL", "ALPHABET INC CL A", "equity", 189.43, 100_000, 0.018, _NASDAQ),
        Instrument("META", "META PLATFORMS INC CL A", "equity", 599.24, 90_000, 0.022, _NASDAQ),
        Instrument("TSLA", "TESLA INC", "equity", 379.28, 210_000, 0.035, _NASDAQ),
        Instrument("AMD", "ADVANCED MICRO DEVICES INC", "equity", 120.63, 100_000, 0.030, _NASDAQ),
        Instrument("INTC", "INTEL CORP", "equity", 19.92, 80_000, 0.030, _NASDAQ),
        Instrument("JPM", "JPMORGAN CHASE & CO", "equity", 237.72, 50_000, 0.013, _NYSE),
        Instrument("XOM", "EXXON MOBIL CORP", "equity", 107.85, 50_000, 0.013, _NYSE),
        Instrument("JNJ", "JOHNSON & JOHNSON", "equity", 143.82, 35_000, 0.010, _NYSE),
        Instrument("KO", "COCA-COLA CO", "equity", 62.16, 30_000, 0.009, _NYSE),
        Instrument("PFE", "PFIZER INC", "equity", 26.33, 45_000, 0.014, _NYSE),
        Instrument("F", "FORD MOTOR CO", "equity", 9.95, 40_000, 0.018, _NYSE),
        Instrument("SPY", "SPDR S&P 500 ETF TRUST", "etf", 584.64, 220_000, 0.009, _ARCA),
        Instrument("QQQ", "INVESCO QQQ TRUST SERIES 1", "etf", 510.23, 180_000, 0.011, _NASDAQ),
        Instrument("IWM", "ISHARES RUSSELL 2000 ETF", "etf", 220.96, 80_000, 0.012, _ARCA),
        Instrument("XLF", "FINANCIAL SELECT SECTOR SPDR", "etf", 47.62, 30_000, 0.011, _ARCA),
        Instrument("GLD", "SPDR GOLD SHARES", "etf", 245.42, 25_000, 0.009, _ARCA),
        # a fictional sub-$1 name: quotes and trades on a 0.0001 grid
        Instrument("PNNY", "PENNY EXAMPLE CORP (SYNTHETIC)", "equity", 0.4321, 15_000, 0.045, _NASDAQ),
    )
}

# Shares outstanding (millions), for the fundamental message only.
SHARES_OUTSTANDING_MM: dict[str, float] = {
    "AAPL": 15_037, "MSFT": 7_434, "NVDA": 24_490, "AMZN": 10_515, "GOOGL": 5_833, "META": 2_524,
    "TSLA": 3_210, "AMD": 1_621, "INTC": 4_330, "JPM": 2_799, "XOM": 4_395, "JNJ": 2_407,
    "KO": 4_308, "PFE": 5_667, "F": 3_974, "SPY": 1_031, "QQQ": 565, "IWM": 318, "XLF": 1_040,
    "GLD": 293, "PNNY": 412,
}  # fmt: skip

# Share of all trades per market center (IQFEED_PROTOCOL.md: AAPL near the close).
VENUE_SHARE: dict[int, float] = {
    5: 45.0, 19: 18.0, 11: 12.0, 12: 7.0, 16: 7.0, 14: 4.0, 17: 2.0, 6: 1.0, 20: 0.8,
    13: 0.6, 18: 0.6, 8: 0.5, 15: 0.5, 9: 0.4, 21: 0.3, 10: 0.2, 7: 0.2, 22: 0.2,
}  # fmt: skip
TRF_CENTERS = (19, 20, 21)  # the trade reporting facilities: off-exchange prints
# Mean TickID step per trade: venues number other messages too (AAPL's close: NASDAQ ~150k
# TickIDs for ~90k trades, NTRF ~265k for ~36k).
TICK_STEP: dict[int, float] = {5: 1.7, 19: 7.0, 11: 2.3, 12: 2.4, 16: 1.4}
DEFAULT_TICK_STEP = 2.0


def symbol_key(symbol: str) -> int:
    """A stable 32-bit key of ``symbol`` (CRC-32), the same in any process: seeds its random streams."""
    return zlib.crc32(symbol.encode())
