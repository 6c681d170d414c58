# yizhan: the two commands a fresh machine needs are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench install clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

## The whole station on this machine, with demo data; Ctrl-C stops it.
run: $(STAMP)
	$(BIN)/yizhan run

## The whole suite: real Redis, real workers, SQLite and (when reachable) PostgreSQL.
## Three pytest processes, each taking whole files (module fixtures start a station once); PYTEST_WORKERS=0 for one.
## Three on two cores: a third of a two-worker run's time was spent waiting on processes starting, polls and
## timeouts, not on the CPU, and a third worker fills it.
PYTEST_WORKERS ?= 3
test: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

## Load, latency and scale figures, each beside a baseline from the same run, and a profile; writes docs/benchmarks.md.
bench: $(STAMP)
	$(BIN)/python bench/http_bench.py --seconds 10 --output docs/benchmarks.md
	$(BIN)/python bench/pipeline_bench.py --output docs/benchmarks.md
	$(BIN)/python bench/e2e_bench.py --output docs/benchmarks.md
	$(BIN)/python bench/scale_bench.py --output docs/benchmarks.md
	$(BIN)/python bench/profile_bench.py --output docs/benchmarks.md

clean:
	rm -rf $(VENV) var .pytest_cache
