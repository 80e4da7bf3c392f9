# Tooling for the group_therapy addon. The repository root is the addon itself; everything
# here only prepares an Odoo 19 to load it. See README.md for the variables.
SHELL := /bin/bash

export CACHE_DIR ?= $(HOME)/.cache/group_therapy
export ODOO_PATH ?= $(CACHE_DIR)/odoo-19.0
export ODOO_REPO_URL ?= https://github.com/odoo/odoo.git
export ODOO_BRANCH ?= 19.0
export VENV ?= $(CACHE_DIR)/venv
export PYTHON ?= python3
export DB_HOST ?=
export DB_PORT ?=
export DB_USER ?=
export DEMO_DB ?= group_therapy_demo
export TEST_DB ?= group_therapy_test
export HTTP_PORT ?= 8069
export WORKERS ?= 0
export BUILD_DIR ?= $(CURDIR)/.build

.PHONY: help setup run test test-odoo test-pytest lint pot bench shell clean

help:
	@echo "make run    set up Odoo 19 + a demo database, serve http://localhost:$(HTTP_PORT) (admin / admin)"
	@echo "            WORKERS=3 make run: 3 worker processes + gevent worker behind nginx, as in production"
	@echo "make test   set up, then a fresh test database, Odoo's runner and pytest-odoo, plus lint"
	@echo "make lint   ruff, ruff format --check, pylint-odoo (mandatory + OCA optional), XML well-formedness"
	@echo "make pot    regenerate i18n/group_therapy.pot (make test fails when it is stale)"
	@echo "make bench  the session-flow benchmark against Odoo's own invoicing"

setup:
	@tools/setup.sh

run: setup
	@tools/run.sh

test: setup
	@tools/test.sh

lint: setup
	@tools/lint.sh

pot: setup
	@tools/pot.sh

bench: setup
	@tools/bench.sh

shell: setup
	@tools/odoo.sh shell -d $(DEMO_DB)

clean:
	rm -rf $(BUILD_DIR)
