# One command to set up and run the main job, one to run the tests (see README).
#   make run    create .venv, install the project, run all pipelines on synthetic data
#   make test   create .venv, install the project with its test extra, run pytest
#   make serve  serve the registered champion on http://127.0.0.1:8000 (docs at /docs)
#   make notebook  install the notebooks extra (JupyterLab) and open notebooks/ (= make jupyter)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export KEDRO_DISABLE_TELEMETRY := 1

.PHONY: install run test serve viz mlflow-ui notebook jupyter clean-data

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/kedro run $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(ARGS)

# the approved model (alias champion) of mlflow.db, or MLFLOW_TRACKING_URI; ARGS="--alias challenger --port 8080"
serve: $(STAMP)
	$(BIN)/retail-forecasting serve $(ARGS)

# JupyterLab on notebooks/ (kernels start in notebooks/; `%load_ext kedro.ipython` finds the
# project). Run `make run` first: the notebooks read its outputs through the catalog.
NB_STAMP := $(VENV)/.notebooks-installed
$(NB_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[notebooks]"
	touch $(NB_STAMP)

notebook: $(NB_STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks $(ARGS)

jupyter: notebook

viz: $(STAMP)
	$(BIN)/kedro viz run --host 127.0.0.1

mlflow-ui: $(STAMP)
	$(BIN)/mlflow ui --backend-store-uri sqlite:///mlflow.db --host 127.0.0.1

clean-data:
	find data -type f ! -name .gitkeep -delete
