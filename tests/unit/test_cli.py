from __future__ import annotations

import io
import socket

import pandas as pd
from typer.testing import CliRunner

from oss20.cli import app
from oss20.market import Market

runner = CliRunner()


def test_dump_writes_the_ground_truth_ticks_as_csv() -> None:
    args = ["simulate", "--dump", "KO", "2025-01-02", "--seed", "3", "--activity", "0.02"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    dumped = pd.read_csv(io.StringIO(result.stdout))
    truth = Market(seed=3, activity=0.02).ticks("KO", "2025-01-02")
    assert len(dumped) == len(truth) > 100
    assert dumped["tick_id"].tolist() == truth["tick_id"].tolist()
    assert dumped["price"].tolist() == truth["price"].tolist()
    assert list(dumped.columns) == list(truth.columns)


def test_bad_symbol_says_what_is_wrong() -> None:
    result = runner.invoke(app, ["simulate", "--dump", "../etc", "2025-01-02"])
    assert result.exit_code != 0 and "not a valid ticker" in result.output


def test_unknown_symbol_lists_the_universe() -> None:
    result = runner.invoke(app, ["simulate", "--symbols", "AAPL,NOPE"])
    assert result.exit_code != 0 and "not in the simulated universe: NOPE" in result.output


def test_holiday_is_refused_with_the_reason() -> None:
    result = runner.invoke(app, ["simulate", "--dump", "AAPL", "2025-01-01"])
    assert result.exit_code != 0 and "not an NYSE trading day" in result.output


def test_bad_date_format_is_explained() -> None:
    result = runner.invoke(app, ["simulate", "--day", "01/02/2025"])
    assert result.exit_code != 0 and "expected YYYY-MM-DD" in result.output


def test_a_taken_port_says_so_without_a_traceback() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = ["simulate", "--level1-port", str(port), "--history-port", "0", "--admin-port", "0"]
        result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port} for the level1 port" in result.output
    assert "Traceback" not in result.output
