# Two commands on a fresh machine: `make run` and `make test`. Each creates .venv first.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
# pip warns once per package about this machine's local index folders; hide only that line
QUIET := 2>&1 | { grep -v 'is ignored: it is neither a file nor a directory' || true; }
VENV  ?= .venv
BIN   := $(VENV)/bin
PY    := $(BIN)/python
export OMP_NUM_THREADS ?= 1
export MPLBACKEND := Agg
export NO_ALBUMENTATIONS_UPDATE := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test install install-dev docs browser

$(PY):
	python3 -m venv $(VENV)

# Stamp files: reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e . $(QUIET)
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e ".[dev]" $(QUIET)
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## The main job: the whole study (data check, U-Net vs baseline, classifiers, pipeline), written to runs/<time>/report.html.
## Pass options through ARGS, e.g. `make run ARGS="--reuse runs/2026-11-27_0912"`.
run: install
	OMP_NUM_THREADS=$$(env -u OMP_NUM_THREADS nproc) $(BIN)/wbc_run $(ARGS)

## Debian's Chromium for the browser test (no browser download); skipped with a note where apt is not ours to use.
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian's chromium for the browser test"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || echo "could not install chromium: the browser test will be skipped"; \
	else echo "no /usr/bin/chromium and no root to install it: the browser test will be skipped"; fi

## Every test: notebooks clean and in sync with the library, notebook tests, then pytest.
test: install-dev browser
	@before=$$(git status --porcelain; git diff | md5sum); \
	$(BIN)/nbdev-clean; \
	after=$$(git status --porcelain; git diff | md5sum); \
	if [ "$$before" != "$$after" ]; then echo "nbdev-clean changed files: run nbdev-clean and commit"; git status --short; exit 1; fi
	@before=$$(git status --porcelain; git diff | md5sum); \
	$(BIN)/nbdev-export; \
	after=$$(git status --porcelain; git diff | md5sum); \
	if [ "$$before" != "$$after" ]; then echo "nbdev-export changed files: the library is out of sync with the notebooks"; git status --short; exit 1; fi
	@big=$$(find nbs -name '*.ipynb' -size +300k); if [ -n "$$big" ]; then echo "notebooks over 300 KB: $$big"; exit 1; fi
	$(BIN)/nbdev-test --n-workers 2 --timing
	$(BIN)/python -m pytest -q tests

## Docs: the real site needs Quarto (`nbdev-docs`); without it, tests/test_docs.py renders the processed notebooks.
docs: install-dev
	$(BIN)/nbdev-docs
