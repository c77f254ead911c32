# OPTIMA developer entry points. Two commands matter on a fresh machine:
#   make demo   create .venv, install core + Lightning + plots, run the quickstart example
#   make test   create/update .venv with every package and the test extras, lint, type-check, run the suite
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check
CONSTRAINTS := -c constraints.txt
PACKAGES := optima-core optima-lightning optima-keras optima-slurm optima-plots
PYPROJECTS := $(addsuffix /pyproject.toml,$(PACKAGES))

# Keep Ray, Keras and matplotlib from writing into ~ and from phoning home.
export RAY_USAGE_STATS_ENABLED := 0
export TF_CPP_MIN_LOG_LEVEL := 2
export TF_ENABLE_ONEDNN_OPTS := 0
export KERAS_HOME := $(CURDIR)/.run/keras
export MPLCONFIGDIR := $(CURDIR)/.run/mpl

.PHONY: demo test lint typecheck pytest bytecode venv-demo venv-test test-floors clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade "pip>=24"

# pip compiles every installed module to bytecode one file after the other (16 of the 23 s torch takes to install
# here); the installs skip that, and compileall then does it on every CPU at once. Like pip, it does not stop at the few files
# of the installed packages that are not valid Python 3.11 (test data of torch, for one).
INSTALL := $(PIP) install -q --no-compile $(CONSTRAINTS)
COMPILE_INSTALLED := $(BIN)/python -c "import compileall, sysconfig; \
	compileall.compile_dir(sysconfig.get_paths()['purelib'], quiet=2, workers=0)"

# torch first, pinned to the CPU build on disk, so no other requirement can pull a CUDA build.
$(VENV)/.demo-installed: $(BIN)/python $(PYPROJECTS) constraints.txt
	$(INSTALL) torch==2.13.0
	$(INSTALL) -e ./optima-core -e ./optima-lightning -e ./optima-plots
	$(COMPILE_INSTALLED)
	touch $@

$(VENV)/.test-installed: $(VENV)/.demo-installed
	$(INSTALL) -e "./optima-core[test,root,mlflow]" -e "./optima-lightning[onnx]" -e "./optima-keras[cpu,onnx]" \
		-e ./optima-slurm -e ./optima-plots
	$(COMPILE_INSTALLED)
	touch $@

venv-demo: $(VENV)/.demo-installed
venv-test: $(VENV)/.test-installed

# Where PYTHONDONTWRITEBYTECODE=1 is set (this machine; maybe a CI runner), Python never caches what it compiles, and
# every process (each Ray worker, each `optima` a test starts) compiled OPTIMA's modules from the editable source
# trees again: about 0.1 s of each worker's start. compileall writes the caches (recompiling only changed files);
# Python reads them either way, and ignores a cache that is older than its source.
bytecode: $(BIN)/python
	$(BIN)/python -m compileall -q $(addsuffix /src,$(PACKAGES)) > /dev/null

# The demo's output folder is recreated on every run (optima refuses to mix the results of two runs).
DEMO_OUTPUT := DNN_storage/main_quickstart

demo: venv-demo bytecode
	@mkdir -p .run
	$(BIN)/optima plugins
	$(BIN)/optima check examples/quickstart.py > .run/quickstart-check.txt && echo "run-config OK (resolved settings: .run/quickstart-check.txt)"
	rm -rf $(DEMO_OUTPUT)
	$(BIN)/optima run examples/quickstart.py
	@echo "Results: $(DEMO_OUTPUT)"

lint: venv-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv-test
	$(MYPY_PRIORITY) $(BIN)/mypy $(addsuffix /src,$(PACKAGES))

# The suite in two parts. The tests not marked slow (single-process, nearly all of them) run in one worker process
# per CPU (pytest-xdist; at most 4): on 2 CPUs in about 3 minutes instead of 5. Beside them run the few end-to-end
# tests marked overlap too, which leave a CPU idle most of their time (they wait on the SLURM sandbox, or work in
# one thread); the ones that submit to the SLURM sandbox share one worker (group "slurm"), which starts it once.
# Then the other end-to-end tests (marked slow: each runs Ray trials on every CPU, and several time their runs) run
# one at a time, as they always did. Both parts always run; either failing fails the target.
pytest: venv-test bytecode
	@mkdir -p .run
	rc=0; $(BIN)/python -m pytest -m "not slow or overlap" -n auto --maxprocesses 4 --dist loadgroup || rc=$$?; \
		$(BIN)/python -m pytest -m "slow and not overlap" || rc=$$?; exit $$rc

# mypy (about 35 s of CPU from a cold cache) runs beside the suite at the lowest CPU priority, so it takes mostly the
# CPU time the tests leave idle (they leave minutes of it) rather than theirs; lint first builds the venv, so the two
# never install at once. Either failing fails `make test`.
test: lint
	$(MAKE) --no-print-directory -j2 typecheck pytest MYPY_PRIORITY="nice -n 19"

# The oldest dependency versions the pyproject files allow, installed in a throwaway venv (/tmp/optima-floors), with
# the core, plots and Keras tests and one small Lightning HPO run there. Not part of `make test` (downloads, ~10 min).
test-floors:
	$(PYTHON) tools/check_floors.py

clean:
	rm -rf $(VENV) .run .pytest_cache .mypy_cache .ruff_cache
