# Switchboard: build, run and test.
#
#   make setup   Debian packages the tests need, and the Python venv (.venv)
#   make build   swift build
#   make run     build, then serve Config/switchboard.yaml
#   make test    swift test (unit tests), then the end-to-end suite (pytest)
#   make bench   release build, then the load-generator scenarios against Switchboard
#                and nats-server, side by side (BENCHMARKS.md)
#   make bench-cluster  release build, then fan-out across two nodes joined by NATS
#   make bench-micro  micro-benchmarks of the hot functions (Benchmarks/Micro, ordo-one)
#   make clean   remove build products and the venv
#
# SWIFT_BUILD_FLAGS is passed to both `swift build` and `swift test`, e.g.
#   make test SWIFT_BUILD_FLAGS="-Xswiftc -warnings-as-errors"

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

SWIFT             ?= swift
SWIFT_BUILD_FLAGS ?=
SWIFT_TEST_FLAGS  ?=
CONFIG            ?= Config/switchboard.yaml

# Debian packages needed on the machine (add more here as the project grows).
DEB_PACKAGES ?= python3 python3-venv python3-pip pkg-config nginx haproxy caddy nats-server libnats-dev

# The venv is made with Debian's interpreter, not whatever python3 is on PATH.
SYSTEM_PYTHON ?= /usr/bin/python3
VENV          := .venv
VENV_PYTHON   := $(VENV)/bin/python
REQUIREMENTS  := Tests/EndToEnd/requirements.txt
REQ_STAMP     := $(VENV)/.requirements.stamp

BIN        := .build/debug/switchboard
PYTEST_ARGS ?= -q

.PHONY: setup deb-packages build run test test-unit test-e2e clean

setup: deb-packages $(REQ_STAMP)

# Install only the Debian packages that are missing; apt-get update at most once.
deb-packages:
	@missing=""; \
	for p in $(DEB_PACKAGES); do \
	  status=$$(dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null || true); \
	  case "$$status" in *" installed") ;; *) missing="$$missing $$p" ;; esac; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" -eq 0 ]; then sudo=""; \
	  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo"; \
	  else echo "setup: missing Debian packages:$$missing" >&2; \
	       echo "setup: cannot install them (not root and no usable sudo); install them and rerun" >&2; \
	       exit 1; fi; \
	  echo "setup: installing Debian packages:$$missing"; \
	  $$sudo apt-get update; \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y $$missing; \
	fi

$(VENV_PYTHON): | deb-packages
	$(SYSTEM_PYTHON) -m venv $(VENV)

# Reinstall only when requirements.txt is newer than the stamp.
$(REQ_STAMP): $(REQUIREMENTS) | $(VENV_PYTHON)
	$(VENV_PYTHON) -m pip install --disable-pip-version-check -q -r $(REQUIREMENTS)
	touch $@

build:
	$(SWIFT) build $(SWIFT_BUILD_FLAGS)

run: setup build
	$(BIN) serve --config $(CONFIG)

# Runs every test: the unit tests and the end-to-end suite both run, and the
# target fails if either fails (pytest's exit 5, "no tests collected", fails too).
test: setup
	$(SWIFT) build $(SWIFT_BUILD_FLAGS)
	@unit=0; e2e=0; \
	$(SWIFT) test $(SWIFT_BUILD_FLAGS) $(SWIFT_TEST_FLAGS) || unit=$$?; \
	SWITCHBOARD_BIN="$${SWITCHBOARD_BIN:-$(CURDIR)/$(BIN)}" \
	  $(VENV_PYTHON) -m pytest Tests/EndToEnd $(PYTEST_ARGS) || e2e=$$?; \
	if [ $$unit -ne 0 ]; then echo "make test: swift test failed (exit $$unit)" >&2; fi; \
	if [ $$e2e -eq 5 ]; then echo "make test: pytest collected no tests" >&2; \
	elif [ $$e2e -ne 0 ]; then echo "make test: end-to-end tests failed (exit $$e2e)" >&2; fi; \
	[ $$unit -eq 0 ] && [ $$e2e -eq 0 ]

test-unit:
	$(SWIFT) test $(SWIFT_BUILD_FLAGS) $(SWIFT_TEST_FLAGS)

# End-to-end suite only, against an already built binary.
test-e2e: setup
	SWITCHBOARD_BIN="$${SWITCHBOARD_BIN:-$(CURDIR)/$(BIN)}" $(VENV_PYTHON) -m pytest Tests/EndToEnd $(PYTEST_ARGS)

# Release server and load generator, then every scenario of Benchmarks/run-benchmarks.sh
# against Switchboard and then nats-server, each server on core 0 and the generator on
# core 1, and the comparison table; about four minutes after the build.
# BENCH_BIN_DIR must match any --scratch-path in SWIFT_BUILD_FLAGS.
BENCH_BIN_DIR ?= .build/release

.PHONY: bench bench-micro
bench:
	$(SWIFT) build -c release $(SWIFT_BUILD_FLAGS) --product switchboard
	$(SWIFT) build -c release $(SWIFT_BUILD_FLAGS) --product switchboard-bench
	@command -v taskset >/dev/null 2>&1 || $(MAKE) deb-packages DEB_PACKAGES=util-linux
	@command -v nats-server >/dev/null 2>&1 || $(MAKE) deb-packages DEB_PACKAGES=nats-server
	ulimit -n 65536 2>/dev/null || ulimit -n "$$(ulimit -Hn)"; Benchmarks/run-benchmarks.sh $(BENCH_BIN_DIR)

# Cross-node fan-out: two release nodes joined by a local nats-server (BENCHMARKS.md).
.PHONY: bench-cluster
bench-cluster: deb-packages
	$(SWIFT) build -c release $(SWIFT_BUILD_FLAGS) --product switchboard
	$(SWIFT) build -c release $(SWIFT_BUILD_FLAGS) --product switchboard-bench
	Benchmarks/run-cluster-benchmark.sh $(BENCH_BIN_DIR)

# A separate package, so the main build never fetches the benchmark harness; about a
# minute of measuring after its first build.
bench-micro:
	$(SWIFT) package --package-path Benchmarks/Micro benchmark

clean:
	rm -rf .build $(VENV) Tests/EndToEnd/__pycache__ Tests/EndToEnd/.pytest_cache .pytest_cache
