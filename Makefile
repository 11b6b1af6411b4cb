# loyaute — every entry CI runs is here. `make test` is what .ci/run calls.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
EXTRAS ?= test,spark,pdf

.PHONY: install node-test-deps test lint typecheck unit demo parse-examples bench clean

$(BIN)/.installed-$(EXTRAS): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $@

install: $(BIN)/.installed-$(EXTRAS)

# The OpenID provider the sign-in tests run (npm's oidc-provider), pinned by its lock file.
NODE_DIR := tests/idp/node
$(NODE_DIR)/node_modules/.package-lock.json: $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error

node-test-deps: $(NODE_DIR)/node_modules/.package-lock.json

lint: install
	$(BIN)/ruff format --check loyaute tests bench
	$(BIN)/ruff check loyaute tests bench

typecheck: install
	$(BIN)/mypy

unit: install node-test-deps
	$(BIN)/pytest

test: lint typecheck unit

demo: install
	$(BIN)/loyaute --home loyaute-home demo --serve --port $(PORT)

parse-examples: install
	$(BIN)/loyaute parse --config examples/loyaute.toml examples/logs

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis $(NODE_DIR)/node_modules
