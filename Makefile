# Two commands for a fresh machine: `make demo` and `make test`. Both create .venv with everything installed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install corpus-check clean

$(STAMP): pyproject.toml
	# Debian's chromium and its driver, for the browser test of `framing annotate` (nothing is downloaded at test time).
	command -v chromium >/dev/null && command -v chromedriver >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium chromium-driver)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first, pinned: 2.13.0 is a CPU build; letting a dependency pick torch would pull a CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/framing compare examples/peru-mexico/*.txt --name peru-mexico

test: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/framing corpus check labeled/
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) .pytest_cache
