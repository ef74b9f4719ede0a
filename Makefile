# Volunteer Hub: `make run` serves the app, `make test` runs every suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export PICCOLO_CONF := volunteer_hub.piccolo_conf

.PHONY: run test install install-test migrate demo messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamps: reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

migrate: install
	$(BIN)/python -m volunteer_hub migrate

demo: migrate
	$(BIN)/python -m volunteer_hub seed-demo-if-empty

run: demo
	@echo "Volunteer Hub on http://$(HOST):$(PORT) (with a solver worker beside it)"
	$(BIN)/python -m volunteer_hub serve --host $(HOST) --port $(PORT)

# Three pytest passes side by side (they share nothing: each has its own var/ directory and
# database): the tests that need no database, every database test on SQLite, and every database test
# again on PostgreSQL. The two background passes' output is shown when all have ended; the target
# fails if any pass fails. The no-database pass (solver tests, CPU-bound) runs at a lower priority:
# the two database passes are the longest, and it fills the time they spend waiting.
test: install-test
	@mkdir -p var
	@nice -n 10 $(BIN)/pytest -m "not db" > var/test-no-database.log 2>&1 & plain_pass=$$!; \
	VH_TEST_DB=postgres $(BIN)/pytest -m db > var/test-postgres.log 2>&1 & postgres_pass=$$!; \
	echo "== SQLite pass (the no-database and PostgreSQL passes run beside it) =="; \
	$(BIN)/pytest -m db; sqlite_status=$$?; \
	wait $$plain_pass; plain_status=$$?; \
	wait $$postgres_pass; postgres_status=$$?; \
	echo "== no-database pass =="; cat var/test-no-database.log; \
	echo "== PostgreSQL pass =="; cat var/test-postgres.log; \
	echo "== exit: SQLite $$sqlite_status, no-database $$plain_status, PostgreSQL $$postgres_status =="; \
	test $$sqlite_status -eq 0 && test $$plain_status -eq 0 && test $$postgres_status -eq 0

# Refresh the Chinese catalogue after adding messages (then translate the new entries).
messages: install-test
	mkdir -p var
	$(BIN)/pybabel extract -F volunteer_hub/locale/babel.cfg -k _ -k gettext -k ngettext:1,2 -k lazy \
		--no-location -o var/messages.pot .
	$(BIN)/pybabel update -i var/messages.pot -d volunteer_hub/locale -l zh_CN -N --ignore-obsolete -w 100

clean:
	rm -rf $(VENV) var
