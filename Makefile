# wstream — every target installs what it needs (libzstd-dev through apt) when it is missing.
SWIFT      ?= swift
RELEASE    := .build/release/wstream

.PHONY: deps build release test demo bench portable clean

deps:
	@dpkg -s libzstd-dev >/dev/null 2>&1 || { \
		echo "installing libzstd-dev (apt)…"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libzstd-dev pkg-config; }

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product wstream

# The tests: unit and end-to-end. The budget test runs the release binary (built here first).
test: release
	$(SWIFT) test

clean:
	rm -rf .build
