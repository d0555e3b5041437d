"""The fill ledger survives a restart, clears only what is done, and refuses a file it cannot read."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from oss20.storage.fill_ledger import LEDGER, FillLedger

T = pd.Timestamp("2025-01-02 10:00", tz="America/New_York")
S = pd.Timedelta(seconds=1)


def test_windows_outlive_the_process_until_done(tmp_path: Path) -> None:
    ledger = FillLedger(tmp_path)
    ledger.add("MSFT", T + S, T + 5 * S)
    ledger.add("AAPL", T, T + 9 * S)
    ledger.add("AAPL", T, T + 9 * S)
    assert FillLedger(tmp_path).outstanding() == [("AAPL", T, T + 9 * S), ("MSFT", T + S, T + 5 * S)]
    ledger.done("AAPL", T, T + 9 * S)
    ledger.done("AAPL", T, T + 8 * S)  # never asked: nothing happens
    reopened = FillLedger(tmp_path)
    assert reopened.outstanding() == [("MSFT", T + S, T + 5 * S)]
    assert str(reopened.outstanding()[0][1].tz) == "America/New_York"


def test_an_unreadable_ledger_is_refused_with_its_path(tmp_path: Path) -> None:
    (tmp_path / LEDGER).write_text("[[1, 2]")
    with pytest.raises(ValueError, match=f"{LEDGER} is not a fill ledger"):
        FillLedger(tmp_path)
    (tmp_path / LEDGER).write_text('[["../etc", 1, 2]]')
    with pytest.raises(ValueError, match="not a fill ledger"):
        FillLedger(tmp_path)
