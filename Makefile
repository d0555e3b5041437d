# The two commands a new user runs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test test-fast bench lint notebooks clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

demo: $(STAMP)
	$(BIN)/oss20 serve

test: lint
	$(BIN)/python -m pytest -n 2 --dist loadscope --nbval --nbval-sanitize-with nbval-sanitize.cfg -p no:cacheprovider

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

# Re-run every notebook and store its outputs (what `make test` then compares), dashboards on a
# throwaway data dir and free ports as in dashboards/conftest.py; the live widgets' outputs (cells
# tagged nbval-ignore-output) are not kept.
notebooks: $(STAMP)
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace notebooks/*.ipynb
	OSS20_DATA_DIR=$$(mktemp -d) OSS20_DEMO_SPEED=60 OSS20_LEVEL1_PORT=0 OSS20_LOOKUP_PORT=0 OSS20_ADMIN_PORT=0 \
		$(BIN)/jupyter nbconvert --to notebook --execute --inplace dashboards/*.ipynb
	$(BIN)/jupyter nbconvert --to notebook --inplace --TagRemovePreprocessor.enabled=True \
		--TagRemovePreprocessor.remove_all_outputs_tags='["nbval-ignore-output"]' dashboards/*.ipynb

lint: $(STAMP)
	$(BIN)/ruff format --check lib app jobs tests bench notebooks dashboards
	$(BIN)/ruff check lib app jobs tests bench notebooks dashboards
	$(BIN)/mypy lib/oss20

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
