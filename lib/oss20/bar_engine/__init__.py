"""The bars engine: time, tick, volume, dollar, and de Prado's imbalance and run bars.

``BarSpec.parse("5min")`` names a bar; ``build_bars(ticks, spec)`` builds them in one call and
``BarBuilder`` tick batch by tick batch, through the same numba kernels.
"""

from oss20.bar_engine.builders import BarBuilder, build_bars
from oss20.bar_engine.spec import BarSpec

__all__ = ["BarBuilder", "BarSpec", "build_bars"]
