# LabelHub — `make demo` runs the platform with demo data, `make test` runs the tests.
# Both install what they need into .venv from this project's own files.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
# CPU build by default; GPU users install their own torch first (see README) and set TORCH_SPEC=
TORCH_SPEC ?= torch==2.13.0
CHROMIUM ?= /usr/bin/chromium

.PHONY: install demo test test-fast test-unit lint chromium clean-db worker check-deploy

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	@# torch first: trl/accelerate would otherwise pull a multi-GB CUDA build
	if [ -n "$(TORCH_SPEC)" ]; then $(PIP) install --quiet "$(TORCH_SPEC)"; fi
	@# the web tier and job worker, the trainer's libraries ([trainer]) and the test tools ([dev]);
	@# a web-only machine needs just `pip install .`
	$(PIP) install --quiet -e '.[trainer,dev]'
	touch $@

# the browser libraries, exactly as locked; the pages load only the files listed in
# settings.FRONTEND_VENDOR_FILES, and `manage.py check` fails when one is missing
frontend/node_modules/.package-lock.json: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --silent

install: $(VENV)/.installed frontend/node_modules/.package-lock.json

demo: install
	DEBUG=$${DEBUG:-1} $(PY) manage.py demo

worker: install
	DEBUG=$${DEBUG:-1} $(PY) manage.py worker

# pytest-xdist: TEST_WORKERS processes (2 by default; `make test TEST_WORKERS=0` runs in one).
# The minutes-long tests are collected first (tests/conftest.py) so that they start at once.
TEST_WORKERS ?= 2
XDIST := $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist load --maxschedchunk 1)

test: install chromium
	DEBUG=1 $(PY) -m pytest $(XDIST) --durations=20

# the pure logic: no database (an unreachable one, so a test that needs it fails), no browser, no training
test-unit: install
	DEBUG=1 DATABASE_URL=postgresql://nobody@127.0.0.1:1/none $(PY) -m pytest -m "not django_db and not trainer and not browser and not loop and not fuzz and not fault"

# the database-backed and pure tests: no browser (no Chromium needed), no model training, no
# minutes-long loop, no fault injection, no fuzzing; what to run after most changes
test-fast: install
	DEBUG=1 $(PY) -m pytest $(XDIST) -m "not browser and not loop and not trainer and not fuzz and not fault"

chromium:
	@test -x $(CHROMIUM) || { echo "Installing Debian's chromium for the browser tests"; \
	  (apt-get update -qq && apt-get install -y -qq chromium) || sudo apt-get install -y -qq chromium; }

# ruff, then the import contracts in pyproject.toml ([tool.importlinter]: layers, no cycles, trainer apart)
lint: install
	$(VENV)/bin/ruff check labelhub trainer tests benchmarks
	$(VENV)/bin/lint-imports --no-logo

check-deploy: install
	DEBUG=0 SECRET_KEY=$$(openssl rand -hex 32) ALLOWED_HOSTS=labelhub.example.com \
	  CSRF_TRUSTED_ORIGINS=https://labelhub.example.com $(PY) manage.py check --deploy --fail-level WARNING

clean-db:
	rm -rf var/pgdata var/run
