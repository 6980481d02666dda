# The project's commands. Every target creates .venv and installs what it needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEBIAN_PACKAGES := python3-venv xvfb libxcb-icccm4 libxcb-keysyms1 libpulse0 chromium age minisign ffmpeg espeak-ng xdotool pulseaudio
# The install stamp changes whenever pyproject.toml does, so dependencies follow it.
STAMP := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-16)
DEMO_DIR := build/demo

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
	@rm -rf $(DEMO_DIR) && mkdir -p $(DEMO_DIR)
	$(BIN)/content-pack keygen -o $(DEMO_DIR)/publisher.key
	$(BIN)/content-pack age keygen -o $(DEMO_DIR)/device.key
	$(BIN)/content-pack build content_packs/library/alcohol-and-you \
	    -o $(DEMO_DIR)/alcohol-and-you.pack \
	    --sign-key $(DEMO_DIR)/publisher.key \
	    --recipient "$$(grep -o 'age1[0-9a-z]*' $(DEMO_DIR)/device.key)"
	$(BIN)/content-pack verify $(DEMO_DIR)/alcohol-and-you.pack \
	    --pubkey $(DEMO_DIR)/publisher.pub --identity $(DEMO_DIR)/device.key
	$(BIN)/content-pack inspect $(DEMO_DIR)/alcohol-and-you.pack \
	    --pubkey $(DEMO_DIR)/publisher.pub --identity $(DEMO_DIR)/device.key

clean:
	rm -rf build .mypy_cache .pytest_cache .ruff_cache .hypothesis
