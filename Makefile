# The project's commands. Every target creates .venv and installs what it needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEBIAN_PACKAGES := python3-venv xvfb libxcb-icccm4 libxcb-keysyms1 libpulse0 chromium age minisign ffmpeg espeak-ng xdotool pulseaudio fonts-dejavu-core
# The install stamp changes whenever pyproject.toml does, so dependencies follow it.
STAMP := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-16)

.PHONY: deps system-deps lint test bench demo clean

deps: system-deps $(STAMP)

system-deps:
	@scripts/ensure-debian-packages.sh $(DEBIAN_PACKAGES)

$(STAMP):
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[kiosk,server,dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

lint: deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest

bench: deps
	$(BIN)/python -m benchmarks

demo: deps
	$(BIN)/python scripts/demo.py

clean:
	rm -rf build .mypy_cache .pytest_cache .ruff_cache .hypothesis
