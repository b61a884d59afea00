# The front door. `make run` and `make test` do all set-up on a fresh machine:
# they create .venv from poetry.lock (bootstrapping Poetry into .tools/ when no
# `poetry` is on PATH) and reinstall only when poetry.lock changes.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
TOOLS := .tools
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SPARK_STAMP := $(VENV)/.spark-installed
POETRY_VERSION := 2.5.1
POETRY_MIRROR_VERSION := 0.6.5
POETRY ?= $(or $(shell command -v poetry),$(TOOLS)/poetry/bin/poetry)

# Telemetry off everywhere; the venv's bin first so `kedro`, `mlflow` and
# `uvicorn` resolve to the locked versions.
export KEDRO_DISABLE_TELEMETRY := 1
export DO_NOT_TRACK := 1
export POETRY_VIRTUALENVS_IN_PROJECT := true
export PATH := $(CURDIR)/$(BIN):$(PATH)
# The project's logging (quiet libraries, a summary at the end) from any folder.
export KEDRO_LOGGING_CONFIG ?= $(CURDIR)/conf/logging.yml

KEDRO := $(BIN)/kedro

.PHONY: help install spark-setup airflow-setup airflow-dag airflow-month stack-setup stack-up stack-down stack-status run test test-all lint format viz mlflow-ui serve notebook wheel conf-archive bench replay-demo clean

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk -F':.*?## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(TOOLS)/poetry/bin/poetry:
	@echo "Bootstrapping Poetry into $(TOOLS)/poetry"
	$(PYTHON) -m venv $(TOOLS)/poetry
	$(TOOLS)/poetry/bin/pip install --quiet poetry==$(POETRY_VERSION) poetry-plugin-pypi-mirror==$(POETRY_MIRROR_VERSION)

# The mirror URL is pip's own PyPI address, read at run time so that no index
# address is ever written into the repository or poetry.lock.
$(STAMP): poetry.lock | $(POETRY)
	@echo "Installing the locked environment into $(VENV)"
	$(POETRY) check --lock
	$(POETRY) env use $(PYTHON) >/dev/null
	POETRY_PYPI_MIRROR_URL=$$($(PYTHON) -c "from pip._internal.models.index import PyPI; print(PyPI.simple_url)") \
		$(POETRY) install --with dev --no-interaction
	@# Byte-compile once: where PYTHONDONTWRITEBYTECODE is set (these machines),
	@# nothing caches compiled modules and every command would recompile what it
	@# imports (seconds per `kedro run`). Kedro's cookiecutter templates are not Python.
	$(BIN)/python -m compileall -q -j 0 -x '[{][{]' $(VENV)/lib src >/dev/null
	@touch $@

install: $(STAMP) ## create or update .venv from poetry.lock (only when it changed)

# The Spark path is optional: pyspark (the lock's `spark` group) and a Java
# runtime. Java comes from Debian's openjdk-17-jre-headless when the machine
# has none and this runs as root; otherwise the message says what to install.
$(SPARK_STAMP): poetry.lock $(STAMP)
	@if ! command -v java >/dev/null 2>&1 && [ -z "$${JAVA_HOME:-}" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "Installing Java 17 for Spark (openjdk-17-jre-headless)"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; \
		else \
			echo "Spark needs Java 17 or later and none is installed: as root, apt-get install openjdk-17-jre-headless (or set JAVA_HOME), then run make spark-setup again" >&2; \
			exit 1; \
		fi; \
	fi
	POETRY_PYPI_MIRROR_URL=$$($(PYTHON) -c "from pip._internal.models.index import PyPI; print(PyPI.simple_url)") \
		$(POETRY) install --with dev,spark --no-interaction
	$(BIN)/python -m compileall -q -j 0 $$($(BIN)/python -c "import pyspark, os; print(os.path.dirname(pyspark.__file__))") >/dev/null
	@touch $@

spark-setup: $(SPARK_STAMP) ## the Spark path (--env=spark_env): pyspark, and Java 17 where missing

# Airflow runs in a venv of its own (build/airflow-venv, deploy/airflow/requirements.txt:
# the project's runtime pins, apache-airflow and kedro-airflow), with the project
# installed into it; never in the project's runtime or its image.
AIRFLOW_VENV := build/airflow-venv
AIRFLOW_STAMP := $(AIRFLOW_VENV)/.installed

$(AIRFLOW_STAMP): deploy/airflow/requirements.txt pyproject.toml
	@echo "Installing Airflow's environment into $(AIRFLOW_VENV)"
	rm -rf $(AIRFLOW_VENV)
	$(PYTHON) -m venv $(AIRFLOW_VENV)
	$(AIRFLOW_VENV)/bin/pip install --quiet --disable-pip-version-check -r deploy/airflow/requirements.txt
	$(AIRFLOW_VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -e .
	$(AIRFLOW_VENV)/bin/python -m compileall -q -j 0 -x '[{][{]' $(AIRFLOW_VENV)/lib >/dev/null
	@touch $@

airflow-setup: $(AIRFLOW_STAMP) ## Airflow 3 and kedro-airflow in their own venv (build/airflow-venv), with the project

PIPELINE ?= __default__
airflow-month: $(STAMP) $(AIRFLOW_STAMP) ## one month of the loop run by Airflow (airflow dags test kedro_ml_monthly MONTH=YYYY-MM-01 [ENV=...])
	@test -n "$(MONTH)" || { echo "Give the month: make airflow-month MONTH=YYYY-MM-01 [ENV=game2_env]" >&2; exit 2; }
	KEDRO_ML_PROJECT=$(CURDIR) KEDRO_ML_ENV=$(ENV) KEDRO_ML_KEDRO=$(abspath $(KEDRO)) \
		$(AIRFLOW_VENV)/bin/python deploy/airflow/month.py $(MONTH)

airflow-dag: $(AIRFLOW_STAMP) ## an Airflow DAG of a pipeline (PIPELINE=sub_churn_train_from_raw) in build/airflow/dags, one task per base pipeline
	$(AIRFLOW_VENV)/bin/kedro airflow create -p $(PIPELINE) $(if $(ENV),-e $(ENV)) \
		-j deploy/airflow/kedro_dag.py.j2 -t build/airflow/dags --params project_path=$(CURDIR)

# The team's tracking stack (deploy/stack): PostgreSQL from Debian, SeaweedFS's S3
# server and `mlflow server`, on 127.0.0.1, data in build/stack. The server's own
# venv (build/stack-venv, deploy/stack/requirements.txt) holds psycopg2 and boto3;
# the project's runtime never does. Settings: deploy/stack/stack.env, or the same
# names given here (make stack-up MLFLOW_PORT=5090).
STACK_VENV := build/stack-venv
STACK_STAMP := $(STACK_VENV)/.installed
STACK := $(STACK_VENV)/bin/python deploy/stack/stack.py

$(STACK_STAMP): deploy/stack/requirements.txt
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && [ -z "$${PG_BINDIR:-}" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "Installing PostgreSQL for the tracking stack (Debian's postgresql)"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
		else \
			echo "The tracking stack needs PostgreSQL's server programs: as root, apt-get install postgresql (or set PG_BINDIR), then run make stack-setup again" >&2; \
			exit 1; \
		fi; \
	fi
	@echo "Installing the tracking server's environment into $(STACK_VENV)"
	rm -rf $(STACK_VENV)
	$(PYTHON) -m venv $(STACK_VENV)
	$(STACK_VENV)/bin/pip install --quiet --disable-pip-version-check -r deploy/stack/requirements.txt
	$(STACK_VENV)/bin/python -m compileall -q -j 0 $(STACK_VENV)/lib >/dev/null
	@touch $@

stack-setup: $(STACK_STAMP) ## install the tracking stack: PostgreSQL (apt, as root) and the server's own venv

stack-up: $(STACK_STAMP) ## start the team's tracking stack on 127.0.0.1 (PostgreSQL, S3, mlflow server); prints MLFLOW_TRACKING_URI
	@$(STACK) up

stack-down: $(STACK_STAMP) ## stop the tracking stack (its data stays in build/stack)
	@$(STACK) down

stack-status: $(STACK_STAMP) ## what of the tracking stack runs where, and the MLFLOW_TRACKING_URI to use
	@$(STACK) status

run: $(STAMP) ## run the main job: the whole churn lifecycle on the default game
	$(KEDRO) run

# The fast tier: unit, pipeline-in-memory and two smoke runs (about 2 minutes on
# 2 cores). The system tests (tests/e2e: servers, Docker, browser, replay,
# wheel) and the Spark tests run in `make test-all`, which CI runs.
FAST_TIER := -m "not slow and not docker and not spark" --ignore=tests/e2e

test: $(STAMP) ## the fast tier: unit, pipelines in memory, smoke runs (about 2 minutes)
	$(BIN)/pytest $(FAST_TIER)

test-all: $(STAMP) $(SPARK_STAMP) $(STACK_STAMP) $(AIRFLOW_STAMP) ## every test: the fast tier, then the system tests (chromium, a container engine, Java, PostgreSQL); what CI runs
	$(BIN)/pytest --durations=40

lint: $(STAMP) ## ruff lint and format check
	$(BIN)/ruff check src tests benchmarks deploy
	$(BIN)/ruff format --check src tests benchmarks deploy

format: $(STAMP) ## apply ruff fixes and formatting
	$(BIN)/ruff check --fix src tests benchmarks deploy
	$(BIN)/ruff format src tests benchmarks deploy

# A port the tools take: a number from 1 to $(2) (kedro viz stops below the
# ephemeral ports, 49152 and up). One line, exit 2, when it is not.
define check_port
	@case "$(PORT)" in ''|*[!0-9]*) echo "PORT=$(PORT) is not a port number: give one from 1 to $(2) ($(1))" >&2; exit 2;; esac; \
	if [ "$(PORT)" -lt 1 ] || [ "$(PORT)" -gt $(2) ]; then echo "PORT=$(PORT) is outside 1-$(2), the ports $(1) takes" >&2; exit 2; fi
endef

viz: PORT ?= 4141
viz: $(STAMP) ## open kedro viz on 127.0.0.1:$(PORT) (PORT=4141; ENV=game2_env for game 2)
	$(call check_port,kedro viz,49151)
	$(KEDRO) viz run --host 127.0.0.1 --port $(PORT) --no-browser $(if $(ENV),--env $(ENV))

mlflow-ui: PORT ?= 5000
mlflow-ui: $(STAMP) ## open the MLflow UI on the local store (127.0.0.1:$(PORT), PORT=5000), printing links to the champions
	$(call check_port,the MLflow UI,65535)
	@$(BIN)/python -m kedro_ml.framework.links --tracking-uri sqlite:///$(CURDIR)/mlflow.db --port $(PORT)
	$(BIN)/mlflow ui --backend-store-uri sqlite:///$(CURDIR)/mlflow.db --host 127.0.0.1 --port $(PORT) --workers 1

notebook: PORT ?= 8888
notebook: $(STAMP) ## open JupyterLab on notebooks/ (127.0.0.1:$(PORT), PORT=8888)
	$(call check_port,JupyterLab,65535)
	$(BIN)/jupyter lab --notebook-dir notebooks --ip 127.0.0.1 --port $(PORT) --no-browser \
		$(if $(filter 0,$(shell id -u)),--allow-root)

serve: PORT ?= 5001
serve: $(STAMP) ## serve the champion and its online store on 127.0.0.1:$(PORT) (PORT=5001; ENV=game2_env)
	$(call check_port,the model server,65535)
	$(KEDRO) serve --port $(PORT) $(if $(ENV),--env $(ENV))

SCALES ?= 10000,100000,1000000
replay-demo: $(STAMP) ## a 3-year game whose world changes in 2016-10, replayed month by month (timeline in data/drift_demo/08_reporting/replay/)
	$(KEDRO) run --env=drift_demo_env -p sub_churn_synthesize
	$(KEDRO) replay --env=drift_demo_env --from 2016-05-01 --to 2017-12-01

bench: $(STAMP) ## benchmark the pipelines (SCALES=10000,100000 to choose); figures in build/bench.json
	$(BIN)/python benchmarks/bench.py --scales $(SCALES)

# The wheel is built from what git tracks (as it is in the work tree): a file
# left under src/kedro_ml/ that git does not track (credentials, a stray
# module) never goes in.
WHEEL_SRC := build/wheel-src

wheel: $(STAMP) ## build dist/kedro_ml-<version>-py3-none-any.whl (tracked files only) and dist/conf-kedro_ml.tar.gz
	@git rev-parse --is-inside-work-tree >/dev/null 2>&1 || { echo "make wheel builds from the files git tracks: run it in a git clone of the project" >&2; exit 1; }
	rm -rf dist $(WHEEL_SRC)
	mkdir -p $(WHEEL_SRC)
	git ls-files -z -- pyproject.toml README.md src/kedro_ml \
		| tar --null --files-from=- --ignore-failed-read -cf - | tar -xf - -C $(WHEEL_SRC)
	$(POETRY) build --format wheel --output $(CURDIR)/dist --no-interaction --project $(WHEEL_SRC)
	$(MAKE) --no-print-directory conf-archive
	@ls -1 dist

conf-archive: ## dist/conf-kedro_ml.tar.gz: tracked configuration only, never conf/local or credentials
	@mkdir -p dist
	{ git ls-files conf | grep -v -e '^conf/local/' -e 'credentials'; echo conf/local/.gitkeep; } \
		| tar -czf dist/conf-kedro_ml.tar.gz --files-from=-

clean: ## remove the environment and build outputs (keeps data, mlflow.db and the tracking stack's data in build/stack)
	rm -rf $(VENV) $(TOOLS) $(filter-out build/stack,$(wildcard build/*)) dist .pytest_cache .ruff_cache
