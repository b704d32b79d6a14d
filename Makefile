# One command to set up and run the main job, one to run the tests (see README).
#   make run    create .venv, install the project, run __default__ (ingestion .. evaluation) on synthetic data
#   make test   create .venv, install the project with its test extra, run pytest
#   make serve  serve the registered champion on http://127.0.0.1:8000 (docs at /docs)
#   make notebook  install the notebooks extra (JupyterLab) and open notebooks/ (= make jupyter)
#   make lint   ruff check + ruff format --check (src, tests, benchmarks) and mypy on the engine
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export KEDRO_DISABLE_TELEMETRY := 1

.PHONY: install run test lint serve viz mlflow-ui notebook jupyter clean-data

# Installs the versions of uv.lock, hash-checked, as the Dockerfile does: uv exports them (--locked
# fails when uv.lock is out of date with pyproject.toml: run `uv lock`), pip installs them, then
# the project itself, editable, without resolving again.
UV_EXPORT := $(BIN)/uv export --quiet --locked --no-dev --no-emit-project

$(STAMP): pyproject.toml uv.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip "uv>=0.13,<0.14"
	$(UV_EXPORT) --extra test -o $(VENV)/requirements-test.txt
	$(BIN)/python -m pip install --quiet -r $(VENV)/requirements-test.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/kedro run $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(ARGS)

# [tool.ruff] and [tool.mypy] in pyproject.toml say what is checked
LINT_STAMP := $(VENV)/.lint-installed
$(LINT_STAMP): $(STAMP)
	$(UV_EXPORT) --extra lint -o $(VENV)/requirements-lint.txt
	$(BIN)/python -m pip install --quiet -r $(VENV)/requirements-lint.txt
	touch $(LINT_STAMP)

lint: $(LINT_STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

# the approved model (alias champion) of mlflow.db, or MLFLOW_TRACKING_URI; ARGS="--alias challenger --port 8080"
serve: $(STAMP)
	$(BIN)/retail-forecasting serve $(ARGS)

# JupyterLab on notebooks/ (kernels start in notebooks/; `%load_ext kedro.ipython` finds the
# project). Run `make run` first: the notebooks read its outputs through the catalog.
NB_STAMP := $(VENV)/.notebooks-installed
$(NB_STAMP): $(STAMP)
	$(UV_EXPORT) --extra notebooks -o $(VENV)/requirements-notebooks.txt
	$(BIN)/python -m pip install --quiet -r $(VENV)/requirements-notebooks.txt
	touch $(NB_STAMP)

notebook: $(NB_STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root) $(ARGS)

jupyter: notebook

# kedro-viz opened on one stage, functions only (the whole __default__ is ~170 boxes: its
# opening zoom of 16 % is unreadable). Another stage: make viz VIZ_PIPELINE=eda (feature_engineering,
# baselines, modelling, evaluation, inference, __default__); datasets too: VIZ_TYPES=nodes,datasets
VIZ_PIPELINE ?= ingestion
VIZ_TYPES    ?= nodes
VIZ_URL       = http://127.0.0.1:4141/?pid=$(VIZ_PIPELINE)&types=$(VIZ_TYPES)
VIZ_STAMP := $(VENV)/.viz-installed
$(VIZ_STAMP): $(STAMP)
	$(UV_EXPORT) --extra viz -o $(VENV)/requirements-viz.txt
	$(BIN)/python -m pip install --quiet -r $(VENV)/requirements-viz.txt
	touch $(VIZ_STAMP)

viz: $(VIZ_STAMP)
	@echo "kedro-viz: open $(VIZ_URL)"
	@( sleep 20; $(BIN)/python -m webbrowser -t "$(VIZ_URL)" >/dev/null 2>&1 ) &
	$(BIN)/kedro viz run --host 127.0.0.1 --no-browser

mlflow-ui: $(STAMP)
	$(BIN)/mlflow ui --backend-store-uri sqlite:///mlflow.db --host 127.0.0.1

clean-data:
	find data -type f ! -name .gitkeep -delete
