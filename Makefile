# The verbs a person types. `make run` and `make test` install whatever they need on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000
ARGS ?=

VENV := .venv
PY := $(CURDIR)/$(VENV)/bin/python
PYTHON_DEPS := $(VENV)/.installed
NODE_DEPS := frontend/node_modules/.installed
SPA := frontend/dist/index.html
# OHIF Viewer, built, for backend/tests/test_pacs_ohif.py (the $(OHIF) rule below).
OHIF_VERSION := 3.13.2
OHIF_INTEGRITY := sha512-WZdxmpmG7rqFgW9ZJLcbgr3XCtLi1KDNPoMaeY5PPe6j4G4fjEjjkycZM6C6Zk2F87BKxFfpq+jd5xXZB9E8EA==
OHIF_DIR := .cache/ohif-$(OHIF_VERSION)
OHIF := $(OHIF_DIR)/dist/index.html
SPA_SOURCES := $(shell find frontend/src frontend/public -type f 2>/dev/null) \
	frontend/index.html frontend/vite.config.ts frontend/tsconfig.json frontend/tsconfig.app.json \
	frontend/tsconfig.node.json frontend/package-lock.json

# Tests run on the PostgreSQL and Redis of this machine (CI has them on their default ports).
# The test database is created and dropped by pytest-django; Redis DB 15 and a per-run key prefix
# and queue keep test data apart from a running service.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/cxr
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: help run test lint bench weights manage ml worker spa test-python test-frontend test-e2e system-packages \
	api-types check-api-types backup restore loadtest

help:
	@echo "make run      install, build the web app, migrate and serve at http://$(HOST):$(PORT)"
	@echo "make test     install and run every check (lint, Python, web app, browser)"
	@echo "make lint     ruff, the TypeScript compiler, ESLint (the web app's layers) and the generated API types"
	@echo "make api-types   regenerate frontend/src/types/api.generated.ts from the OpenAPI schema"
	@echo "make manage ARGS=\"...\"   run manage.py;  make ml ARGS=\"...\"   run python -m ml"
	@echo "make bench    time the engine against other runtimes, every network, a study, a worker (last line: JSON)"
	@echo "make loadtest ARGS=\"--clinicians 3 --images 8 --faults\"   the whole service under load (and faults)"
	@echo "make weights SHA256=...   download, check and import torchxrayvision's NIH DenseNet121"
	@echo "make backup [BACKUP=DIR]   the database and every media file into a new folder (backups/<time>)"
	@echo "make restore BACKUP=DIR    a backup into an empty database and an empty media storage"

$(PYTHON_DEPS): backend/requirements.txt backend/requirements-dev.txt ml/pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r backend/requirements-dev.txt -e 'ml[cpu]'
	touch $@

$(NODE_DEPS): frontend/package.json frontend/package-lock.json frontend/lint/package.json frontend/lint/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	cd frontend && npm ci --prefix lint --no-audit --no-fund --loglevel=error
	touch $@

$(SPA): $(NODE_DEPS) $(SPA_SOURCES)
	cd frontend && npm run build

spa: $(SPA)

run: $(PYTHON_DEPS) $(SPA)
	cd backend && $(PY) manage.py migrate --noinput
	cd backend && $(PY) manage.py collectstatic --noinput --clear --verbosity 0
	cd backend && $(PY) manage.py fail_interrupted_studies
	HOST=$(HOST) PORT=$(PORT) PY=$(PY) backend/serve.sh

# The findings worker and the analysers' worker, stopped together (backend/workers.sh).
worker: $(PYTHON_DEPS)
	PY=$(PY) backend/workers.sh

manage: $(PYTHON_DEPS)
	cd backend && $(PY) manage.py $(ARGS)

ml: $(PYTHON_DEPS)
	$(PY) -m ml $(ARGS)

# Timings of the inference engine (forward pass, heatmaps, worker time per study through the
# pipeline, cold starts) against TensorFlow, XLA, ONNX Runtime and OpenVINO bf16 and int8 on the
# shared radiographs; every analyser's network through its runtime and Keras, a whole study with the
# default analysers, a cold worker process with its memory (ml/src/ml/bench_networks.py); the last
# line is JSON. ARGS="--weights DIR --threads 2 --batch 1 --no-networks" and so on.
BENCH_DEPS := $(VENV)/.bench-installed

$(BENCH_DEPS): $(PYTHON_DEPS)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e 'ml[cpu,bench]'
	touch $@

bench: $(BENCH_DEPS)
	$(PY) -m ml.bench $(ARGS)

# The whole service on loopback (a throwaway database on TEST_DATABASE_URL's server, its own Redis,
# gunicorn, a Celery worker and beat) under N clinicians uploading at once; --faults adds a wave per
# fault. Prints studies per minute, upload-to-done median and p95, errors, and the faults table.
loadtest: $(PYTHON_DEPS) system-packages
	cd backend && DATABASE_ADMIN_URL=$(dir $(TEST_DATABASE_URL))postgres timeout 1200 $(PY) -m loadtest $(ARGS)

# Download torchxrayvision's NIH DenseNet121, check it against SHA256 (none is published, so the
# operator gives it) and import it into WEIGHTS_DIR; offline it says how to install weights by hand.
SHA256 ?=
WEIGHTS_DIR ?= weights/torchxrayvision-nih

weights: $(PYTHON_DEPS)
	$(PY) -m ml.classifier.fetch --sha256 "$(SHA256)" --out $(WEIGHTS_DIR)

# Backups of the service this environment points at (DATABASE_URL, CXR_MEDIA_ROOT or CXR_S3_*): the
# database as pg_dump writes it and every media file, with their SHA-256 (backend/backups/).
BACKUP ?= backups/$(shell date -u +%Y%m%dT%H%M%SZ)

backup: $(PYTHON_DEPS) system-packages
	cd backend && $(PY) manage.py backup --out "$(abspath $(BACKUP))"

restore: $(PYTHON_DEPS) system-packages
	@case "$(origin BACKUP)" in command*|environment*) ;; *) echo "Name the backup: make restore BACKUP=backups/<folder>"; exit 2;; esac
	cd backend && $(PY) manage.py restore "$(abspath $(BACKUP))"

lint: $(PYTHON_DEPS) $(NODE_DEPS)
	$(VENV)/bin/ruff check backend ml
	$(VENV)/bin/ruff format --check backend ml
	cd backend && $(CURDIR)/$(VENV)/bin/lint-imports
	cd frontend && npm run typecheck
	cd frontend && npm run lint
	$(MAKE) --no-print-directory check-api-types

# The web app's API types are generated from the backend's OpenAPI schema; lint fails when the
# committed file differs from what the schema gives now.
API_TYPES := frontend/src/types/api.generated.ts

api-types: $(PYTHON_DEPS) $(NODE_DEPS)
	PY=$(PY) frontend/scripts/generate-api-types.sh $(API_TYPES)

check-api-types: $(PYTHON_DEPS) $(NODE_DEPS)
	@fresh=$$(mktemp --suffix=.ts); trap 'rm -f "$$fresh"' EXIT; \
	PY=$(PY) frontend/scripts/generate-api-types.sh "$$fresh" && \
	if ! diff -u $(API_TYPES) "$$fresh"; then \
		echo "$(API_TYPES) is out of date with the OpenAPI schema: run \`make api-types\` and commit it."; \
		exit 1; \
	fi

test: lint test-python test-frontend test-e2e

# The topology test serves the built web app through nginx. ml's tests spend most of their time
# tracing TensorFlow graphs, mostly on one core, so two processes share them (a module stays in one,
# its fixtures built once); the backend's share queues and ports, and run in one. Each prints its
# slowest tests, to keep `make test` within its time (README, "Set-up").
test-python: $(PYTHON_DEPS) $(SPA) system-packages $(OHIF)
	$(VENV)/bin/python -m pytest ml/tests --numprocesses 2 --dist loadscope --durations 15
	cd backend && PATH=$$PATH:/usr/sbin DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
		CXR_CACHE_PREFIX=cxr-test-$$$$ CXR_TASK_QUEUE=cxr-test-$$$$ $(PY) -m pytest --durations 25

# OHIF Viewer, as npm's @ohif/app ships it built (dist/), for the test that opens the results filed
# into Orthanc in Chromium (backend/tests/test_pacs_ohif.py). Only its tarball is fetched (npm pack,
# none of its dependencies) and checked against the registry's integrity pinned here.

$(OHIF):
	rm -rf $(OHIF_DIR) && mkdir -p $(OHIF_DIR)
	cd $(OHIF_DIR) && npm pack @ohif/app@$(OHIF_VERSION) --silent --loglevel=error >/dev/null
	test "sha512-$$(openssl dgst -sha512 -binary $(OHIF_DIR)/ohif-app-$(OHIF_VERSION).tgz | base64 -w0)" = "$(OHIF_INTEGRITY)"
	tar -xzf $(OHIF_DIR)/ohif-app-$(OHIF_VERSION).tgz -C $(OHIF_DIR) --strip-components=1 package/dist
	rm $(OHIF_DIR)/ohif-app-$(OHIF_VERSION).tgz
	test -f $@

test-frontend: $(NODE_DEPS)
	cd frontend && npm test

# The browser test runs the whole service: gunicorn, a Celery worker, PostgreSQL and Redis.
test-e2e: $(PYTHON_DEPS) $(SPA) system-packages
	PY=$(PY) DATABASE_ADMIN_URL=$(dir $(TEST_DATABASE_URL))postgres REDIS_URL=$(TEST_REDIS_URL) \
		frontend/e2e/with-backend.sh npm --prefix frontend run test:e2e

# Debian packages the tests drive: Chromium for the browser tests; nginx, openssl (the test's TLS
# certificate) and the PostgreSQL client (pg_dump, pg_restore: backups) for the topology tests;
# dicom3tools' dciodvfy to validate the DICOM objects the service makes and pixelmed's SR validator
# (libpixelmed-java, run by default-jre-headless's Java) for the SR's template, dcmtk's storescu and
# echoscu to send images to its DICOM listener, Orthanc and its DICOMweb plugin for the PACS round trip;
# redis-server for the fault tests and `make loadtest` (each starts its own Redis, to stop it); slapd
# and ldap-utils for the LDAP sign-in tests (each starts its own directory).
system-packages:
	@missing=""; command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing="$$missing nginx-light"; \
	command -v openssl >/dev/null || missing="$$missing openssl"; \
	command -v pg_dump >/dev/null || missing="$$missing postgresql-client"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v dciodvfy >/dev/null || missing="$$missing dicom3tools"; \
	[ -e /usr/share/java/pixelmed.jar ] || missing="$$missing libpixelmed-java"; \
	command -v java >/dev/null || missing="$$missing default-jre-headless"; \
	command -v storescu >/dev/null || missing="$$missing dcmtk"; \
	[ -x /usr/sbin/Orthanc ] || missing="$$missing orthanc"; \
	[ -e /usr/share/orthanc/plugins/libOrthancDicomWeb.so ] || missing="$$missing orthanc-dicomweb"; \
	[ -x /usr/sbin/slapd ] || missing="$$missing slapd"; \
	command -v ldapmodify >/dev/null || missing="$$missing ldap-utils"; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		sudo=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
