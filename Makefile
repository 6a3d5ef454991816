# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test lint

# PIP_EXTRA pins other versions, e.g. PIP_EXTRA='wagtail<8' VENV=.venv-wagtail7
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[test]" $(if $(PIP_EXTRA),"$(PIP_EXTRA)")
	touch $@

## Set up and run the example site with a django-q2 worker at http://127.0.0.1:8000
demo: $(VENV)/.installed
	$(PY) example_site/manage.py rundemo

## Set up and run the whole test suite (SQLite; DATABASE_URL=postgres://... for PostgreSQL)
test: $(VENV)/.installed
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
