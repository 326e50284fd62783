# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_PEOPLE ?= 20000
DEMO_ENV := DEBUG=True

.PHONY: install demo test bench lint clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[test]"
	@touch $@

# Migrates the embedded SQLite database, loads the demo campaign once, then serves it on
# http://127.0.0.1:8000 with a task worker beside it. Ctrl-C stops both.
demo: install
	$(DEMO_ENV) $(BIN)/barnstorm migrate --no-input
	$(DEMO_ENV) $(BIN)/barnstorm seed --people $(DEMO_PEOPLE) --if-empty
	@$(DEMO_ENV) $(BIN)/barnstorm worker --beat --loglevel WARNING & worker=$$!; \
	trap "kill $$worker 2>/dev/null" EXIT INT TERM; \
	$(DEMO_ENV) $(BIN)/barnstorm runserver 127.0.0.1:8000

test: install
	$(BIN)/pytest

# Small-scale runs of every benchmark, in a database of their own (never the demo's); see
# docs/benchmarks.md for the full-scale figures. On PostgreSQL:
#   make bench BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:54329/barnstorm_bench BENCH_SCALE=0.1
BENCH_DATABASE_URL ?= sqlite:///$(CURDIR)/var/bench.sqlite3
BENCH_SCALE ?= 0.01
BENCH_ENV = SECRET_KEY=bench DATABASE_URL=$(BENCH_DATABASE_URL)
bench: install
	@mkdir -p var
	$(BENCH_ENV) $(BIN)/barnstorm migrate --no-input -v0
	$(BENCH_ENV) $(BIN)/barnstorm bench import --scale $(BENCH_SCALE)
	$(BENCH_ENV) $(BIN)/barnstorm bench search --scale $(BENCH_SCALE)
	$(BENCH_ENV) $(BIN)/barnstorm bench fec --scale $(BENCH_SCALE)
	$(BENCH_ENV) $(BIN)/barnstorm bench events --scale $(BENCH_SCALE)
	$(BENCH_ENV) $(BIN)/barnstorm bench segments --scale $(BENCH_SCALE)

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) var
