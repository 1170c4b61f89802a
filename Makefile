# Two commands: `make demo` and `make test`. Both create .venv and install what they need.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench bench-service clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test,spark]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/policylang check policies/retail.policy
	$(BIN)/policylang test policies/retail.test.yaml
	@for f in policies/examples/*.json; do \
	  case $$f in */loan.json) continue;; esac; \
	  echo "== $$f"; \
	  $(BIN)/policylang eval policies/retail.policy --facts $$f || exit $$?; \
	done
	$(BIN)/policylang simulate policies/retail.policy --compliance policies/retail.compliance.yaml --out out/simulation --notices out/simulation-notices
	$(BIN)/policylang notice policies/retail.policy --facts policies/examples/d8_letter.json --loan policies/examples/loan.json --out out/notices
	$(BIN)/policylang doc policies/retail.policy --format html --out out/review/retail.html
	@echo "review document: out/review/retail.html"

test: $(VENV)/.installed-test
	$(BIN)/ruff check policylang engine tests
	$(BIN)/python -m pytest

bench: $(VENV)/.installed-test
	$(BIN)/python tests/perf/bench_eval.py

# The service's load benchmark drives it with wrk (Debian's package) where it can be
# installed; without it the benchmark falls back to its own Python clients.
bench-service: $(VENV)/.installed-test
	@command -v wrk >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; } \
	  >/dev/null 2>&1; } || echo "wrk could not be installed: using Python clients"
	$(BIN)/python tests/perf/load_service.py

clean:
	rm -rf $(VENV) build *.egg-info
