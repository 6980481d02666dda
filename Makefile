# The project's commands. Every target creates .venv and installs what it needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEBIAN_PACKAGES := python3-venv xvfb libxcb-icccm4 libxcb-keysyms1 libpulse0 chromium age minisign ffmpeg espeak-ng xdotool pulseaudio fonts-dejavu-core cage shellcheck nginx curl binutils \
	icu-devtools libspeechd2 xwayland
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

# Test workers: one per core (at most four); `make test WORKERS=0` runs in one process.
WORKERS ?= auto

test: lint
	$(BIN)/pytest -n $(WORKERS) --maxprocesses=4 --dist worksteal

bench: deps
	$(BIN)/python -m benchmarks

demo: deps
	$(BIN)/python scripts/demo.py

# The kiosk as a one-folder PyInstaller bundle and its archive (installer/kiosk.spec; readelf,
# strip, objcopy and ld come from binutils, icupkg and genccode for installer/icu_data.py from
# icu-devtools). Rebuilt when the spec, pyproject.toml or any module changes. libspeechd2 is
# for the bundle test's `ldd`: every library the bundle links must be found.
.PHONY: bundle test-bundle bench-bundle
KIOSK_VERSION := $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' pyproject.toml)
BUNDLE_DIR := build/bundle
BUNDLE_ARCHIVE := $(BUNDLE_DIR)/kiosk-app-$(KIOSK_VERSION)-linux-$(shell uname -m).tar.gz
BUNDLE_TOOLS := $(VENV)/.bundle-tools-$(shell sha256sum pyproject.toml | cut -c1-16)
BUNDLE_INPUTS := installer/kiosk.spec installer/icu_data.py pyproject.toml \
	$(shell find kiosk_app content_packs sync_server -path content_packs/library -prune -o \
	-type f \( -name '*.py' -o -name '*.qm' -o -name '*.mako' \) -print)

bundle: system-deps $(BUNDLE_ARCHIVE)

$(BUNDLE_TOOLS): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[kiosk,server,dev,bundle]'
	@rm -f $(VENV)/.bundle-tools-*
	@touch $@

$(BUNDLE_ARCHIVE): $(BUNDLE_TOOLS) $(BUNDLE_INPUTS)
	$(BIN)/pyinstaller --noconfirm --log-level WARN --distpath $(BUNDLE_DIR) \
		--workpath build/pyinstaller installer/kiosk.spec
	@rm -f $(BUNDLE_DIR)/kiosk-app-*.tar.gz
	tar --sort=name --owner=0 --group=0 --numeric-owner -C $(BUNDLE_DIR) -czf $@.part kiosk-app
	@mv $@.part $@
	@du -sb $(BUNDLE_DIR)/kiosk-app | awk '{printf "kiosk bundle: %.1f MB in %s\n", $$1 / 1e6, $$2}'

# The tests marked `bundle` (deselected from `make test`): tests/installer/test_bundle.py and
# the kiosk session's install of the archive.
test-bundle: bundle
	$(BIN)/pytest -m bundle

bench-bundle: bundle
	$(BIN)/python -m benchmarks --only bundle

clean:
	rm -rf build .mypy_cache .pytest_cache .ruff_cache .hypothesis
