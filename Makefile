# loyaute — every entry CI runs is here. `make test` is what .ci/run calls.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
EXTRAS ?= test,spark,pdf

.PHONY: install node-test-deps test-tools test lint typecheck unit demo parse-examples bench clean

$(BIN)/.installed-$(EXTRAS): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $@

install: $(BIN)/.installed-$(EXTRAS)

# The tests' Node packages, each pinned by its committed lock file: the OpenID provider the
# sign-in tests run (npm's oidc-provider) and axe-core, which the browser tests inject.
NODE_DIR := tests/idp/node
AXE_DIR := tests/web/node
$(NODE_DIR)/node_modules/.package-lock.json: $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error

$(AXE_DIR)/node_modules/.package-lock.json: $(AXE_DIR)/package.json $(AXE_DIR)/package-lock.json
	cd $(AXE_DIR) && npm ci --no-audit --no-fund --loglevel=error

node-test-deps: $(NODE_DIR)/node_modules/.package-lock.json $(AXE_DIR)/node_modules/.package-lock.json

# Chromium, a JDK, Node, slapd, the syslog senders: named with their install command when missing
# (ALLOW_MISSING_TOOLS=1 runs anyway, the tests that need them skipping).
test-tools:
	@bash tests/need-tools.sh

lint: install
	$(BIN)/ruff format --check loyaute tests bench
	$(BIN)/ruff check loyaute tests bench

typecheck: install
	$(BIN)/mypy

unit: install test-tools node-test-deps
	$(BIN)/pytest

test: lint typecheck unit

demo: install
	$(BIN)/loyaute --home loyaute-home demo --serve --port $(PORT)

parse-examples: install
	$(BIN)/loyaute parse --config examples/loyaute.toml examples/logs

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis $(NODE_DIR)/node_modules $(AXE_DIR)/node_modules
