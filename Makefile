# Sangdam: `make run` starts the demo, `make test` runs the suite. See README.md.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
PUBLIC_BASE_URL ?= http://127.0.0.1:$(PORT)
# A gentle stream of simulated callers into 일반, agent1's department.
SIM_RATE ?= 2
SIM_DEPARTMENT ?= 일반
# Simulated colleagues per department who take calls beside you (0 = you alone).
SIM_COLLEAGUES ?= 4
PUBLIC_PORT := $(PORT)
export PORT PUBLIC_PORT PUBLIC_BASE_URL SIM_RATE SIM_DEPARTMENT SIM_COLLEAGUES

.PHONY: run test lint format install clean bench api-check

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

run: $(VENV)/.installed
	@mkdir -p var
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py seed_demo
	@$(BIN)/python manage.py demo_logins
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(BIN)/python -m callcenter.procman Procfile.dev

test: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	DJANGO_SETTINGS_MODULE=callcenter.settings.test $(BIN)/python manage.py makemigrations --check --dry-run -v0
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf var staticfiles

# Ratios against baselines measured in the same run (bench/run.py; `apt-get install wrk`
# for the lightest load generator). BENCH_DATABASE_URL=postgres://…/bench for PostgreSQL.
# One section only: BENCH_ARGS=kpi (the KPI section needs PostgreSQL; BENCH_KPI_CALLS=200000
# for a quick run instead of 10 M calls).
bench: $(VENV)/.installed
	@mkdir -p var
	$(BIN)/python -m bench.run $(BENCH_ARGS)

# schemathesis over /api/schema/ for agent1, lead1, manager1 and director against a server on a
# seeded SQLite file (var/api-check.sqlite3), or API_CHECK_URL=http://… for a running one.
api-check: $(VENV)/.installed
	@mkdir -p var
	$(BIN)/python -m callcenter.api_check
