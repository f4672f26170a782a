# The README's two commands: `make run` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint bench goldens clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed (found %s)" % sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/wst check
	$(BIN)/wst plan
	$(BIN)/wst preview
	@# the web workspace beside the daemon, on loopback; Ctrl-C stops both
	$(BIN)/wst serve --invite business-unit & server=$$!; \
	trap 'kill $$server 2>/dev/null; wait $$server 2>/dev/null' EXIT INT TERM; \
	$(BIN)/wst run

test: $(STAMP) lint
	bash tests/browser/install.sh
	bash tests/postgres/install.sh
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python bench/plan.py
	$(BIN)/python bench/check.py
	$(BIN)/python bench/render.py
	$(BIN)/python bench/publish.py
	$(BIN)/python bench/metrics.py
	$(BIN)/python bench/failover.py
	$(BIN)/python bench/web.py
	$(BIN)/python bench/save.py

goldens: $(STAMP)
	WST_UPDATE_GOLDENS=1 $(BIN)/pytest tests -k golden

clean:
	rm -rf $(VENV) var outbox preview
