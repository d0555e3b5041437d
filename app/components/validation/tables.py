"""Keeping a Tabulator in step with a keyed frame by patching and streaming, never by replacing it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import panel as pn


def sync(
    table: pn.widgets.Tabulator,
    new: pd.DataFrame,
    keys: Sequence[str],
    vanished: Mapping[str, Any] | None = None,
) -> None:
    """Bring ``table`` to ``new``: rows whose ``keys`` it shows get their changed cells patched, new
    rows are streamed at the end, and rows no longer in ``new`` get ``vanished`` patched in (left as
    they are when None). The browser receives only the difference."""
    shown = table.value
    at = {
        tuple(row): index
        for index, row in zip(shown.index, shown[list(keys)].itertuples(index=False), strict=True)
    }
    wanted = {tuple(row): i for i, row in enumerate(new[list(keys)].itertuples(index=False))}
    patch: dict[str, list[tuple[Any, Any]]] = {}
    for key, i in wanted.items():
        index = at.get(key)
        if index is None:
            continue
        for column in new.columns:
            value = new[column].iat[i]
            if shown.at[index, column] != value:
                patch.setdefault(column, []).append((index, value))
    for key, index in at.items():
        if key not in wanted and vanished:
            for column, value in vanished.items():
                if shown.at[index, column] != value:
                    patch.setdefault(column, []).append((index, value))
    if patch:
        table.patch(patch)
    added = [i for key, i in wanted.items() if key not in at]
    if added:
        table.stream(new.iloc[added][list(shown.columns)], follow=False)
