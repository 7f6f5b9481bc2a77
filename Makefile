# Two entry points (see README): `make serve` and `make test`. Everything else is what they need.
VENV   := .venv
BIN    := $(VENV)/bin
MIRROR ?= ../shared/data
STAMP  := $(VENV)/.installed

.PHONY: setup system assets serve test lint bench

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

# Debian packages: Chromium (browser tests), GDAL command-line client (OGC API tests), wrk (load benchmark).
system:
	@command -v chromium >/dev/null && command -v ogrinfo >/dev/null && command -v wrk >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium gdal-bin wrk)

# Leaflet / Folium JS and CSS served by the service itself (pinned in service/static/package-lock.json).
assets: service/static/node_modules/.package-lock.json
service/static/node_modules/.package-lock.json: service/static/package-lock.json service/static/package.json
	npm ci --prefix service/static --no-audit --no-fund

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
	TERRITOIRES_MIRROR=$(MIRROR) $(BIN)/python -m bench.startup
	TERRITOIRES_MIRROR=$(MIRROR) $(BIN)/python -m bench.load
