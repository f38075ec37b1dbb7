# The two commands of the README:
#   make demo   runs the main job on the embedded default (local server, local model, local ZenML)
#   make test   runs the tests
# Both create .venv and install everything the first time (llama-cpp-python compiles once,
# about 7 minutes on 2 cores; pip caches the wheel after).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export ZENML_ANALYTICS_OPT_IN := false
export ZENML_ENABLE_RICH_TRACEBACK := false

.PHONY: install demo test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[local,zenml,test]"
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(PY) -m zenbatch demo

test: install
	$(PY) -m pytest

bench: install
	for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) build .pytest_cache
