"""Bars as HoloViews shapes: candles (wicks and bodies) over volume, in New York wall-clock time.

The dashboards stream these frames into Bokeh; ``candles`` draws them as a static figure for
notebooks and reports.
"""

from __future__ import annotations

from collections.abc import Callable

import holoviews as hv
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from oss20.bar_engine import BarSpec

COLORS = {"up": "#2e8540", "down": "#c0392b"}
"""Bars that closed at or above their open, and below it (each a series of its own, with a fixed
color: a color mapped from a column would not survive streaming into a source)."""
SHAPES: dict[str, tuple[Callable[..., hv.Element], list[str]]] = {
    "wicks": (hv.Segments, ["time", "price", "time_end", "price_end"]),
    "bodies": (hv.Rectangles, ["time", "price", "time_end", "price_end"]),
    "volume": (hv.Rectangles, ["time", "base", "time_end", "volume"]),
}
"""Each drawn part of a bar: its element and the columns of its frame (x0, y0, x1, y1)."""


def wall(stamps: pd.Series) -> pd.Series:
    """New York times as naive wall-clock times (what the axis shows and datashader takes)."""
    return stamps.dt.tz_localize(None)


def shapes(bars: pd.DataFrame, spec: BarSpec) -> dict[tuple[str, str], pd.DataFrame]:
    """The frames of each ``SHAPES`` part per direction of ``COLORS`` for ``bars``: time bars span
    their slot, the others their first to last tick (at least a millisecond wide)."""
    if spec.family == "time":
        start = wall(bars["timestamp"]).to_numpy()
        end = start + np.timedelta64(int(spec.size), "s")
    else:
        start = wall(bars["first_tick"]).to_numpy()
        end = np.maximum(wall(bars["last_tick"]).to_numpy(), start + np.timedelta64(1, "ms"))
    middle = start + (end - start) / 2
    opens, closes = bars["open"].to_numpy(), bars["close"].to_numpy()
    columns = {
        "wicks": (middle, bars["low"].to_numpy(), middle, bars["high"].to_numpy()),
        "bodies": (start, np.minimum(opens, closes), end, np.maximum(opens, closes)),
        "volume": (start, np.zeros(len(bars)), end, bars["volume"].to_numpy(np.float64)),
    }
    up = closes >= opens
    return {
        (name, direction): pd.DataFrame(
            {dim: values[rows] for dim, values in zip(SHAPES[name][1], columns[name], strict=True)}
        )
        for name in SHAPES
        for direction, rows in (("up", up), ("down", ~up))
    }


def points(ticks: pd.DataFrame) -> pd.DataFrame:
    """The tick prints as (time, price) points."""
    return pd.DataFrame({"time": wall(ticks["timestamp"]).to_numpy(), "price": ticks["price"].to_numpy()})


def candles(bars: pd.DataFrame, spec: BarSpec | str, title: str = "") -> Figure:
    """Candles of ``bars`` (built with ``spec``) above their volume on one time axis, as a static
    matplotlib figure (what a notebook keeps in its stored outputs and a report embeds)."""
    import matplotlib.pyplot as plt

    parts = shapes(bars, BarSpec.parse(spec))
    figure, (price, volume) = plt.subplots(
        2, 1, sharex=True, figsize=(10, 4.5), height_ratios=(3, 1), layout="constrained"
    )
    plt.close(figure)  # shown once, as the value it is, not again by pyplot
    for direction, color in COLORS.items():
        wicks, bodies, sizes = (parts[(name, direction)] for name in SHAPES)
        price.vlines(wicks["time"], wicks["price"], wicks["price_end"], color=color, linewidth=0.8)
        price.bar(
            bodies["time"],
            (bodies["price_end"] - bodies["price"]).clip(lower=1e-9),
            width=_days(bodies),
            bottom=bodies["price"],
            align="edge",
            color=color,
        )
        volume.bar(sizes["time"], sizes["volume"], width=_days(sizes), align="edge", color=color)
    price.set(title=title, ylabel="price")
    volume.set(ylabel="volume", xlabel="New York time")
    volume.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
    return figure


def _days(frame: pd.DataFrame) -> np.ndarray:
    """Shape widths in days, matplotlib's unit of a date axis."""
    spans = frame["time_end"].to_numpy() - frame["time"].to_numpy()
    return spans / np.timedelta64(1, "D")


def coverage(grid: pd.DataFrame, title: str = "coverage") -> Figure:
    """``oss20.coverage``'s grid as a symbol x session heatmap, one colour per state."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    from oss20.backfill.overview import STATE_COLOURS, STATES

    table = grid.pivot(index="symbol", columns="session", values="state")
    codes = table.apply(lambda column: column.map(STATES.index)).to_numpy(float)
    figure, axes = plt.subplots(figsize=(min(14, 3.5 + 0.9 * table.shape[1]), 1.4 + 0.5 * len(table)))
    plt.close(figure)
    axes.imshow(codes, cmap=ListedColormap([STATE_COLOURS[s] for s in STATES]), vmin=0, vmax=len(STATES) - 1)
    axes.set_xticks(range(table.shape[1]), table.columns, rotation=45, ha="right")
    axes.set_yticks(range(len(table)), table.index)
    axes.set_title(title)
    handles = [Patch(color=STATE_COLOURS[s], label=s) for s in STATES]
    axes.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    figure.tight_layout()
    return figure
