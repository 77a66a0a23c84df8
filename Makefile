# The two commands of the README. Everything is installed by this file into .venv.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test setup lint bench clean-venv

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

setup: $(STAMP)

## make demo: set up .venv and run the main job on the bundled demo organisation
demo: $(STAMP)
	$(BIN)/workbench demo

## make test: set up .venv and run every test (pytest, doctests, then nbval over the notebooks)
test: $(STAMP)
	$(BIN)/python -m pytest tests --durations=15
	$(BIN)/python -m pytest --doctest-modules -p no:cacheprovider workbench
	$(BIN)/python -m pytest --nbval-lax -p no:cacheprovider notebooks

lint: $(STAMP)
	$(BIN)/ruff check workbench tests benchmarks

## make bench: side-by-side timings against peers (needs the bench extra and, optionally, R)
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python benchmarks/run_all.py

clean-venv:
	rm -rf $(VENV)
