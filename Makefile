# Two entry points (see README): `make serve` and `make test`. Everything else is what they need.
VENV   := .venv
BIN    := $(VENV)/bin
MIRROR ?= ../shared/data
STAMP  := $(VENV)/.installed

.PHONY: setup system assets serve test bench

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

# Debian packages: Chromium for the browser tests, GDAL's command-line client for the OGC API tests.
system:
	@command -v chromium >/dev/null && command -v ogrinfo >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium gdal-bin)

# Leaflet / Folium JS and CSS served by the service itself (pinned in service/static/package-lock.json).
assets: service/static/node_modules/.package-lock.json
service/static/node_modules/.package-lock.json: service/static/package-lock.json
	npm ci --prefix service/static --no-audit --no-fund

setup: $(STAMP) assets

serve: setup
	$(BIN)/territoires serve

test: setup system
	TERRITOIRES_MIRROR=$(MIRROR) $(BIN)/pytest

bench: setup system
	TERRITOIRES_MIRROR=$(MIRROR) $(BIN)/python bench/build_and_lookup.py
	TERRITOIRES_MIRROR=$(MIRROR) $(BIN)/python bench/map_bytes.py
