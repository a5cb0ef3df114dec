# 智慧王台 — the two commands: `make run` (dashboard on demo data) and `make test` (all tests).
# Deployment: `make serve` (production start, see README 部署) and `make bundle` (offline install archive).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# `make run THEME=light` for a bright room: the light theme's settings override config.toml's dark one.
THEME_ENV := $(if $(filter light,$(THEME)),env $$(grep -v '^\#' .streamlit/light-theme.env | xargs),)

.PHONY: run serve bundle test lint bench screenshots clean-data

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# `make run` also starts the live demo feed (wangtai simulate: a registration batch a minute) when the data
# directory holds the synthetic demo; it stops with the dashboard. `make run SIMULATE=0` turns it off.
SIMULATE ?= 1
DEMO_TOML = $${WANGTAI_DATA_DIR:-data}/reference/campaign.toml

run: $(STAMP)
	$(BIN)/wangtai prepare
	@if [ "$(SIMULATE)" != "0" ] && grep -qs '^demo = true' "$(DEMO_TOML)"; then \
		$(BIN)/wangtai simulate --while-pid $$$$ & sim=$$!; \
		trap 'kill $$sim 2>/dev/null' EXIT INT TERM; \
		echo "演示：实时扫码登记模拟已启动（每分钟一个批次；make run SIMULATE=0 可关闭）"; \
	fi; \
	$(THEME_ENV) $(BIN)/streamlit run dashboard.py

# Production: the configured address and port (wangtai.toml), no demo data, no simulator, login required.
serve: $(STAMP)
	$(BIN)/wangtai serve

# dist/wangtai-bundle-<version>.tar.gz: the project, every wheel for Linux x86_64 / Python 3.11, install.sh.
bundle:
	PYTHON=$(PYTHON) scripts/bundle.sh

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/wangtai bench $(if $(SCALES),--scales $(SCALES),)

screenshots: $(STAMP)
	$(BIN)/wangtai prepare
	$(BIN)/python scripts/screenshots.py

clean-data:
	rm -rf data/reference data/inbox data/warehouse data/quarantine data/archive data/state
