# The two commands of the README:
#   make demo   runs the main job on the embedded default (local server, local model, local ZenML)
#   make test   runs the tests
# Both create .venv and install everything the first time (llama-cpp-python compiles once,
# about 7 minutes on 2 cores; pip caches the wheel after).
PYTHON ?= python3
VENV ?= .venv
# The dashboard tests read the local ZenML dashboard in Debian's Chromium (headless).
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export ZENML_ANALYTICS_OPT_IN := false
export ZENML_ENABLE_RICH_TRACEBACK := false

.PHONY: install browser demo test lint rehearsal bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[local,zenml,test]"
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(PY) -m zenbatch demo $(ARGS)

browser:
	@test -x $(CHROMIUM) || { echo "installing Debian's chromium for the dashboard tests"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

test: install browser lint
	ZENBATCH_CHROMIUM=$(CHROMIUM) $(PY) -m pytest

# Style (ruff: lint rules and the format) over the whole tree, and types (mypy, strict) over the
# library: part of `make test`. `ruff format .` writes the format.
lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

# The whole flow on a remote-shaped stack: ZenML server, S3 (moto), each step its own process.
rehearsal: install
	$(PY) -m pytest -m rehearsal

bench: install
	for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) build .pytest_cache
