# Two commands do all set-up:  `make lab`  and  `make test`.
# Everything runs from the project's own virtual environment in .venv (created on first use).

SHELL := bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JUPYTER_PORT ?= 8888
# JupyterLab refuses to start as root (as in containers) unless told it may.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
LESSONS ?= $(sort $(wildcard lessons/*.py))
# Where torch alone comes from on the first install (tools/install_env.py). On Linux, PyPI's torch is the
# CUDA build (~2.7 GB with its nvidia-* packages), so the default is PyTorch's CPU wheel index (~190 MB);
# when that index does not answer within 5 s the install falls back to the default index.
# `TORCH_INDEX= make setup` always uses the default index. macOS: PyPI's wheel is already CPU-only.
TORCH_INDEX ?= $(if $(filter Linux,$(shell uname -s)),https://download.pytorch.org/whl/cpu,)

.PHONY: setup lab test unit nbval notebooks lint format bench clean help test-browser solutions report html
.DEFAULT_GOAL := help

help:
	@echo "make setup      create .venv only; torch from TORCH_INDEX=$(TORCH_INDEX) (empty: the default index)"
	@echo "make lab        set up .venv if needed, then open JupyterLab on the lessons (JUPYTER_PORT=$(JUPYTER_PORT))"
	@echo "make test       set up .venv if needed, then unit tests + pairing gate + strict nbval on every notebook + browser test"
	@echo "make notebooks  rebuild notebooks/*.ipynb from lessons/*.py and execute them (LESSONS=... for a subset)"
	@echo "make lint       ruff check + ruff format --check"
	@echo "make bench      every attention method side by side + targets -> bench/results.md (QUICK=1: ~1 min)"
	@echo "make test-browser  the widgets in JupyterLab + headless Chromium (keyboard, mouse, dropdowns)"
	@echo "make solutions  every exercise: the reference answer passes its check, a wrong answer fails it"
	@echo "make report     each lesson's run time and peak RAM -> bench/lesson_runtimes.md + README table"
	@echo "make html       every executed notebook as a static site that reads offline -> site/index.html"

# The venv is rebuilt only when requirements.txt or pyproject.toml change.
$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed; set PYTHON=/path/to/python3.11")'
	@echo ">>> setting up $(VENV): ~350 MB to download, 1.5 GB on disk (README: What the first run installs)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python tools/install_env.py --torch-index "$(TORCH_INDEX)"
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

setup: $(STAMP)

lab: setup
	$(BIN)/jupyter lab $(ROOT_FLAG) --ip=127.0.0.1 --port=$(JUPYTER_PORT) \
		--ServerApp.root_dir="$(CURDIR)" \
		--ServerApp.default_url=/lab/tree/notebooks/00_why_llms_are_expensive.ipynb

# Unit tests, the lesson<->notebook pairing gate, strict nbval over every notebook and (when Chromium is
# installed) the browser test, in one pytest run; -rs prints why anything was skipped.
test: setup
	$(BIN)/python -m pytest --nbval -rs --durations=0 --durations-min=0.5 -p no:cacheprovider tests notebooks

unit: setup
	$(BIN)/python -m pytest -m "not browser" --durations=10 tests

nbval: setup
	$(BIN)/python -m pytest --nbval --durations=0 -p no:cacheprovider notebooks

notebooks: setup
	$(BIN)/python tools/execute_notebooks.py $(LESSONS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# QUICK=1: small sizes (about a minute); THREADS=N: torch threads; NAMES="flash linear": those only.
bench: setup
	$(BIN)/python bench/run.py $(NAMES) $(if $(QUICK),--quick,) $(if $(THREADS),--threads $(THREADS),)

# JupyterLab in headless Chromium: every widget control moved by keyboard, mouse, dropdown, checkbox.
# REQUIRE_BROWSER=1 makes a missing Chromium a failure here instead of a skip.
test-browser: setup
	REQUIRE_BROWSER=1 $(BIN)/python -m pytest -rs -s -p no:cacheprovider tests/browser

# Every exercise of every lesson, in its notebook's kernel: the reference passes, a wrong answer fails.
solutions: setup
	$(BIN)/python tools/check_solutions.py

# Each lesson's run time and peak RAM from a fresh kernel -> bench/lesson_runtimes.md + README table.
report: setup
	$(BIN)/python tools/lesson_report.py

# The committed notebooks as static pages (nothing is executed), MathJax included: open site/index.html.
html: setup
	$(BIN)/python tools/build_site.py --out site

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis site
