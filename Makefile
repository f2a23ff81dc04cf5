# `make run` and `make test` do all the set-up: the virtual environment, the package and what tests need.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q

.PHONY: install install-test browser run test test-fast lint bench bench-language bench-anchors clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -e .
	touch $@

install-test: $(VENV)/.installed-test

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install -e '.[test]'
	touch $@

run: install
	$(VENV)/bin/opencomprehend serve

lint: install-test
	$(PY) -m ruff check src tests bench

# The console's browser tests drive Debian's Chromium through its chromedriver: installed here when missing and
# this runs as root with apt-get (as in CI); elsewhere those tests skip with this hint.
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver; \
	else echo "The console's browser tests need Chromium: apt-get install chromium chromium-driver (as root)"; fi

test: install-test browser
	$(PY) -m ruff check src tests bench
	$(PY) -m pytest

# The inner loop: in-process tests only (no servers, no training, no worker processes), under a minute.
test-fast: install-test
	$(PY) -m pytest -q -m "not e2e and not integration and not training and not slow"

bench: install-test
	$(PY) bench/throughput.py

# The language identifier against lingua-language-detector and langid (the `bench` extra, ~100 MB).
bench-language: install-test
	$(PIP) install -e '.[bench]'
	$(PY) bench/language_id.py

# Our entity models against the public spaCy/GiNZA models a user could install instead (docs/models.md,
# "Anchors"): the anchors are pip-installed with --no-deps into $(ANCHORS), never into the environment (~380 MB).
ANCHORS ?= .anchors
bench-anchors: install
	$(PY) bench/anchors.py --install --anchor-path $(ANCHORS)

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
