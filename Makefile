# Two entry points (see README): `make serve` and `make test`. Everything else is what they need.
VENV   := .venv
BIN    := $(VENV)/bin
MIRROR ?= ../shared/data
STAMP  := $(VENV)/.installed
LOCK   := requirements.lock

.PHONY: setup system assets serve test lint bench lock

# Python packages at the versions and hashes of the lock (with the test extras), then the project itself;
# pip check fails when pyproject.toml asks for something the lock does not hold. The npm packages come first: the
# editable build prepares the JS/CSS from them (setup.py).
$(STAMP): pyproject.toml $(LOCK) service/static/node_modules/.package-lock.json
	python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q --require-hashes -r $(LOCK)
	$(BIN)/pip install -q --no-deps -e .
	@$(BIN)/pip check || (echo "$(LOCK) does not satisfy pyproject.toml: run make lock" >&2; exit 1)
	touch $@

# Refresh the lock after a dependency change in pyproject.toml (uv, from PyPI; every platform, Python >= 3.11).
lock:
	python3 -m venv $(VENV)
	$(BIN)/pip install -q uv
	$(BIN)/uv pip compile pyproject.toml --extra test --universal --python-version 3.11 --generate-hashes -q -o $(LOCK)

# Debian packages: Chromium (browser tests), GDAL command-line client (OGC API tests), wrk (load benchmark),
# nginx (the reverse-proxy configuration of deploy/nginx.conf, checked in front of the service), QGIS's Python
# bindings without the desktop (the QGIS project test; ~190 MB to download, ~890 MB installed).
system:
	@command -v chromium >/dev/null && command -v ogrinfo >/dev/null && command -v wrk >/dev/null && command -v nginx >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium gdal-bin wrk nginx-light)
	@/usr/bin/python3 -c "import qgis.core" 2>/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-qgis)

# Leaflet / Folium JS and CSS served by the service itself (pinned in service/static/package-lock.json): npm ci,
# then the files the pages load copied into service/static/assets, the package data a wheel ships (service/vendor.py).
assets: service/static/assets/manifest.json
service/static/node_modules/.package-lock.json: service/static/package-lock.json service/static/package.json
	npm ci --prefix service/static --no-audit --no-fund --ignore-scripts
service/static/assets/manifest.json: service/static/node_modules/.package-lock.json service/vendor.py
	python3 service/vendor.py

setup: $(STAMP) assets

serve: setup
	$(BIN)/territoires serve

lint: setup
	$(BIN)/ruff check .

test: setup system
	TERRITOIRES_MIRROR=$(MIRROR) $(BIN)/pytest

bench: setup system
	TERRITOIRES_MIRROR=$(MIRROR) $(BIN)/python -m bench.build_and_lookup
	TERRITOIRES_MIRROR=$(MIRROR) $(BIN)/python -m bench.map_bytes
	TERRITOIRES_MIRROR=$(MIRROR) $(BIN)/python -m bench.export_bundle
	TERRITOIRES_MIRROR=$(MIRROR) $(BIN)/python -m bench.locate
	TERRITOIRES_MIRROR=$(MIRROR) $(BIN)/python -m bench.startup
	TERRITOIRES_MIRROR=$(MIRROR) $(BIN)/python -m bench.load
