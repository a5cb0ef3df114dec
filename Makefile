# 智慧王台 — the two commands: `make run` (dashboard on demo data) and `make test` (all tests).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# `make run THEME=light` for a bright room: the light theme's settings override config.toml's dark one.
THEME_ENV := $(if $(filter light,$(THEME)),env $$(grep -v '^\#' .streamlit/light-theme.env | xargs),)

.PHONY: run test lint bench screenshots clean-data

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/wangtai prepare
	$(THEME_ENV) $(BIN)/streamlit run dashboard.py

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/wangtai bench $(if $(SCALES),--scales $(SCALES),)

screenshots: $(STAMP)
	$(BIN)/python scripts/screenshots.py

clean-data:
	rm -rf data/reference data/inbox data/warehouse data/quarantine data/archive data/state
