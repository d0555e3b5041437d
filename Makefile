# The two commands a new user runs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test test-fast bench lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

demo: $(STAMP)
	$(BIN)/oss20 serve

test: lint
	$(BIN)/python -m pytest -n 2 --dist loadscope --nbval-lax -p no:cacheprovider

test-fast: $(STAMP)
	$(BIN)/python -m pytest tests/unit -q

bench: $(STAMP)
	$(BIN)/python bench/bench_parse.py
	$(BIN)/python bench/bench_market.py
	$(BIN)/python bench/bench_bars.py
	$(BIN)/python bench/bench_ingest.py
	$(BIN)/python bench/bench_validation.py
	$(BIN)/python bench/bench_dashboard.py
	$(BIN)/python bench/bench_backfill.py

lint: $(STAMP)
	$(BIN)/ruff format --check lib app jobs tests bench notebooks dashboards
	$(BIN)/ruff check lib app jobs tests bench notebooks dashboards
	$(BIN)/mypy lib/oss20

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
