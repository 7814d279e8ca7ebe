# gigacov — two commands from a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SYSDEPS_STAMP := $(VENV)/.sysdeps
OUT    ?= out/demo

.PHONY: demo test test-fast bench lint sysdeps boundaries clean help

help:
	@echo "make demo   - create .venv, install gigacov, run the synthetic Quanzhou demo end to end"
	@echo "make test   - create .venv if missing and run the whole test suite"
	@echo "make bench  - run the benchmarks in benchmarks/ (not part of the tests)"
	@echo "make lint   - ruff check and ruff format --check (CI runs it before the tests)"

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test,boundaries,dev]"
	touch $(STAMP)

# Debian packages the browser tests and the report's Chinese charts need: Chromium and a CJK
# font. Installed only when missing; uses sudo when not root.
$(SYSDEPS_STAMP): $(STAMP)
	@sh tools/install-sysdeps.sh
	touch $(SYSDEPS_STAMP)

sysdeps: $(SYSDEPS_STAMP)

demo: $(SYSDEPS_STAMP)
	$(VENV)/bin/gigacov demo --out $(OUT)

test: $(SYSDEPS_STAMP)
	$(PY) -m pytest

test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow and not browser"

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

lint: $(STAMP)
	$(VENV)/bin/ruff check coverage tests benchmarks tools
	$(VENV)/bin/ruff format --check coverage tests benchmarks tools

boundaries: $(STAMP)
	$(VENV)/bin/gigacov boundaries build

clean:
	rm -rf $(VENV) out maps/*.html .pytest_cache
