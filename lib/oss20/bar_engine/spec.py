"""Bar specifications as values, parsed from what a quant writes: "5min", "volume:10000", "tick_imbalance".

Time bars ("1s", "5min", "1h", "1d") align to the regular session's open; threshold bars close
once a count of ticks, shares or dollars is reached; imbalance and run bars are the
information-driven bars of de Prado (Advances in Financial Machine Learning, ch. 2), whose
expectations are exponentially weighted and whose parameters are part of the spec.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

TIME_UNITS = {"s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600, "d": 86_400}
THRESHOLDS = ("tick", "volume", "dollar")
INFORMATION = ("imbalance", "run")
MEASURES = {"tick": 0, "volume": 1, "dollar": 2}

_TIME = re.compile(r"^(\d+)(s|sec|min|m|h|d)$")
_THRESHOLD = re.compile(r"^(tick|volume|dollar):([0-9]*\.?[0-9]+(?:e[+]?[0-9]+)?)$")
_INFORMATION = re.compile(r"^(tick|volume|dollar)_(imbalance|run)(?:\((.*)\))?$")
_PARAMETER = re.compile(r"^\s*(expected_ticks|bar_span|tick_span|min_ticks|max_ticks)\s*=\s*([0-9.e+]+)\s*$")


@dataclass(frozen=True)
class BarSpec:
    """What a bar is: its family, the measure it counts and its size, as one hashable value.

    ``family`` is "time", "threshold", "imbalance" or "run"; ``measure`` is "tick", "volume" or
    "dollar" (time bars: "time"); ``size`` is seconds for time bars, the threshold for threshold
    bars. Imbalance and run bars start from ``expected_ticks`` per bar, follow the bar lengths
    with an EWMA of span ``bar_span`` (clamped to [min_ticks, max_ticks]) and the signed tick
    measure with an EWMA of span ``tick_span``; a bar holds at least ``min_ticks`` trades.
    """

    family: str
    measure: str
    size: float = 0.0
    expected_ticks: float = 1000.0
    bar_span: float = 20.0
    tick_span: float = 1000.0
    min_ticks: float = 100.0
    max_ticks: float = 10_000.0

    @classmethod
    def parse(cls, text: str | BarSpec) -> BarSpec:
        """Read a spec such as "5min", "tick:500", "dollar:1e6" or "volume_run(expected_ticks=200)".

        >>> BarSpec.parse("5min").size
        300.0
        >>> BarSpec.parse("dollar_imbalance(expected_ticks=500, bar_span=10)").expected_ticks
        500.0
        """
        if isinstance(text, BarSpec):
            return text
        raw = str(text).strip().lower()
        if match := _TIME.fullmatch(raw):
            seconds = int(match[1]) * TIME_UNITS[match[2]]
            if seconds <= 0 or (seconds > 3600 and seconds != 86_400):
                raise ValueError(f"time bars run from 1s to 1h, or are 1d; got {text!r}")
            return cls("time", "time", float(seconds))
        if match := _THRESHOLD.fullmatch(raw):
            size = float(match[2])
            whole = match[1] == "tick"
            if not 0 < size < math.inf or (whole and not size.is_integer()):
                raise ValueError(
                    f"{text!r}: a {match[1]} bar needs a positive, finite{' whole' * whole} size"
                )
            return cls("threshold", match[1], size)
        if match := _INFORMATION.fullmatch(raw):
            spec = cls(match[2], match[1])
            return spec._with_parameters(match[3] or "", str(text))
        raise ValueError(
            f"not a bar spec: {text!r}; expected e.g. '1s', '5min', '1h', '1d', 'tick:500', 'volume:10000', "
            "'dollar:1e6', 'tick_imbalance', 'volume_run' or 'dollar_imbalance(expected_ticks=500)'"
        )

    def _with_parameters(self, text: str, original: str) -> BarSpec:
        values: dict[str, float] = {}
        for part in filter(str.strip, text.split(",")):
            match = _PARAMETER.fullmatch(part)
            if match is None:
                raise ValueError(
                    f"bad parameter {part.strip()!r} in {original!r}; known: expected_ticks, bar_span, "
                    "tick_span, min_ticks, max_ticks"
                )
            try:
                values[match[1]] = float(match[2])
            except ValueError:
                raise ValueError(f"{match[1]}={match[2]!r} in {original!r} is not a number") from None
        spec = replace(self, **values)  # type: ignore[arg-type]
        if not 0 < spec.min_ticks <= spec.expected_ticks <= spec.max_ticks < math.inf:
            raise ValueError(f"{original!r} needs 0 < min_ticks <= expected_ticks <= max_ticks")
        if spec.bar_span < 1 or spec.tick_span < 1:
            raise ValueError(f"{original!r} needs EWMA spans of at least 1")
        return spec

    @property
    def name(self) -> str:
        """The canonical text of the spec (a storage key part): '5min', 'volume:10000', 'tick_run'."""
        if self.family == "time":
            seconds = int(self.size)
            if seconds == 86_400:
                return "1d"
            if seconds % 3600 == 0:
                return f"{seconds // 3600}h"
            return f"{seconds // 60}min" if seconds % 60 == 0 else f"{seconds}s"
        if self.family == "threshold":
            return f"{self.measure}:{_number(self.size)}"
        default = BarSpec(self.family, self.measure)
        changed = [
            f"{name}={_number(getattr(self, name))}"
            for name in ("expected_ticks", "bar_span", "tick_span", "min_ticks", "max_ticks")
            if getattr(self, name) != getattr(default, name)
        ]
        base = f"{self.measure}_{self.family}"
        return f"{base}({','.join(changed)})" if changed else base

    @property
    def library(self) -> str:
        """The ArcticDB library: bars_time_bars, bars_volume_bars, bars_tick_imbalance_bars, ..."""
        if self.family == "time":
            return "bars_time_bars"
        if self.family == "threshold":
            return f"bars_{self.measure}_bars"
        return f"bars_{self.measure}_{self.family}_bars"

    @property
    def is_daily(self) -> bool:
        return self.family == "time" and self.size == 86_400

    def __str__(self) -> str:
        return self.name


def _number(value: float) -> str:
    """The shortest text that reads back as exactly ``value`` ('10000', '1000000', '2500000.5')."""
    return str(int(value)) if value.is_integer() else repr(value)
