# kafkasec.tls: the two set-up commands are `make demo` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON      ?= python3
VENV        := .venv
BIN         := $(VENV)/bin
BUILD       := .build
COLLECTIONS := $(abspath $(BUILD)/collections)
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export PATH := $(abspath $(BIN)):$(PATH)

APT_PACKAGES := openssl default-jdk-headless maven openssh-server openssh-client

.PHONY: help deps apt venv link unit sanity lint versions build lab-test molecule test demo bench lab-up lab-stop lab-destroy clean

help:
	@echo "make demo   - build the three-broker lab, roll TLS out with ansible-playbook, prove it"
	@echo "make test   - every test: unit, sanity, ansible-lint, ansible-core 2.16/2.20, the lab suites and Molecule"
	@echo "make bench  - the benchmarks (rollout vs a shell baseline, rerun, SSL vs PLAINTEXT, rolling restart)"
	@echo "              on a lab of their own (instance 8), written to docs/benchmarks.md/.json/.png; ~25 min"
	@echo "make unit | sanity | lint | versions | build | lab-test | molecule | clean"
	@echo "make lab-up | lab-stop | lab-destroy  - the local Kafka lab (lab/labctl)"

deps: apt venv link jmx-guard

# The JMX guard (java/jmx-guard): built with Maven from Maven Central (offline once ~/.m2 holds the plugins and
# JUnit), its Java unit tests run on the way; the jar goes where the jmx role ships it from and into the Galaxy
# artifact (make build). Rebuilt only when a source is newer than the jar.
JMX_GUARD_JAR := roles/jmx/files/kafkasec-jmx-guard.jar
JMX_GUARD_SRC := $(shell find java/jmx-guard -type f 2>/dev/null)

.PHONY: jmx-guard
jmx-guard: $(JMX_GUARD_JAR)

$(JMX_GUARD_JAR): $(JMX_GUARD_SRC) | apt
	mvn -B -q -f java/jmx-guard/pom.xml package
	mkdir -p $(dir $@)
	install -m 0644 $(BUILD)/jmx-guard/kafkasec-jmx-guard.jar $@

# Debian packages the tests use to read results back (openssl, keytool) and the lab needs.
apt:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

$(BIN)/ansible-playbook: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

venv: $(BIN)/ansible-playbook

# The repository root is the collection; Ansible finds it through ansible_collections/kafkasec/tls.
link:
	@mkdir -p $(COLLECTIONS)/ansible_collections/kafkasec
	@ln -sfn $(CURDIR) $(COLLECTIONS)/ansible_collections/kafkasec/tls

unit: deps
	$(BIN)/python -m pytest tests/unit -q -n auto

# ansible-test needs the collection under ansible_collections/<ns>/<name>; it runs on a built copy, offline.
sanity: deps
	./tests/sanity.sh

# ansible-lint --profile production on roles/, playbooks/ and the Molecule playbooks (.ansible-lint).
lint: deps
	./tests/lint.sh

# The ends of the supported ansible-core range (2.16 on Python 3.11, 2.20 on 3.12), each in a venv of its own
# under .build/: the unit tests that run Ansible's own code, a syntax check of every playbook, no deprecation.
versions: deps
	./tests/ansible_versions.sh

build: deps
	mkdir -p $(BUILD)/dist
	$(BIN)/ansible-galaxy collection build --force --output-path $(BUILD)/dist .

# The lab tests start real brokers and sshd on 127.0.1.x; one lab per machine, so they run one after another.
lab-test: deps
	./tests/lab_suites.sh lab

molecule: deps
	./tests/lab_suites.sh molecule

# Unit tests, sanity, ansible-lint, the ansible-core range's ends and the real-Kafka suites and Molecule
# scenarios, from one queue on three lanes at once (tests/ci.sh), each lane on a lab instance of its own
# (KAFKASEC_TEST_LAB_INSTANCE, default 9, and the next two: 127.0.9.x to 127.0.11.x), so a demo lab on the machine
# is left alone. KAFKASEC_TEST_LANES=1 runs everything one item after another.
test: deps
	./tests/ci.sh

demo:
	./demo/run.sh

# The benchmarks (bench/README.md): their own lab on KAFKASEC_BENCH_LAB_INSTANCE (default 8: 127.0.8.x),
# created first and destroyed at the end, also on failure; results in docs/benchmarks.{md,json,png}.
bench: deps
	$(BIN)/python bench/run.py

lab-up: deps
	lab/labctl up

lab-stop:
	lab/labctl stop

lab-destroy:
	lab/labctl destroy

clean:
	rm -rf $(BUILD) .pytest_cache
