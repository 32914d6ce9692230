# mesos.xfs_quota — developer entry points. `make demo` and `make test` install what they need.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV        := .venv
BIN         := $(CURDIR)/$(VENV)/bin
BUILD       := $(CURDIR)/.build
COLL_ROOT   := $(BUILD)/collections
COLL_LINK   := $(COLL_ROOT)/ansible_collections/mesos/xfs_quota
VM_SH       := tests/vm/vm.sh
VM          ?= dev
# prometheus: its promtool checks the metrics role's alert rules (make units); sudo: Mitogen becomes root
# through it even on the controller (tasks delegated to localhost with become)
APT_PACKAGES := qemu-system-x86 qemu-utils mmdebstrap sudo xfsprogs e2fsprogs openssh-client \
                ca-certificates python3-venv g++ make cmake git rsync shellcheck \
                libgoogle-glog-dev nlohmann-json3-dev libgtest-dev clang-16 libclang-rt-16-dev libssl-dev \
                prometheus
HOOK_BUILD  := $(BUILD)/hook
HOOK_SANITIZED := $(BUILD)/hook-sanitized
HOOK_FUZZ   := $(BUILD)/hook-fuzz
FUZZ_SECONDS ?= 60

export PATH := $(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_COLLECTIONS_PATH := $(COLL_ROOT)
export ANSIBLE_FORCE_COLOR ?= 0

.PHONY: help deps demo test lint sanity units integration molecule bench vm-image vm-up vm-down build hook clean \
        galaxy matrix matrix-sanity churn-soak check-converged sanity-only units-only
.PHONY: hook-sanitized sanitize fuzz
.PHONY: hook-bullseye integration-bullseye molecule-bullseye hook-versions test-more test-checks molecule-scenarios

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# ---- installation ----------------------------------------------------------------------------
$(BUILD)/apt.stamp:
	@mkdir -p $(BUILD)
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
	    | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "installing Debian packages: $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@touch $@

$(VENV)/.stamp: tests/requirements-dev.txt | $(BUILD)/apt.stamp
	python3 -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r tests/requirements-dev.txt
	@touch $@

# ansible-test bootstraps pip in each sanity venv with a get-pip.py it downloads from a host
# that is not reachable here; it uses a cached copy first, so we place our stand-in there.
ANSIBLE_TEST_PIP = $(shell sed -n "s/^ *pip='\([0-9.]*\)',/\1/p" \
    $(VENV)/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py 2>/dev/null)
GET_PIP_CACHE = $(HOME)/.ansible/test/cache/get_pip_$(subst .,_,$(ANSIBLE_TEST_PIP)).py

$(COLL_LINK):
	@mkdir -p $(dir $@) && ln -sfn $(CURDIR) $@

deps: $(BUILD)/apt.stamp $(VENV)/.stamp $(COLL_LINK)  ## install apt packages and the Python venv

vm-image: deps  ## build (or reuse the cached) test-VM image
	@$(VM_SH) image

vm-up: deps  ## boot the test VM named $(VM) (default dev) and wait for SSH
	@$(VM_SH) up $(VM) >/dev/null && echo "inventory: $$($(VM_SH) inventory $(VM))"

vm-down:  ## stop the test VM named $(VM)
	@$(VM_SH) down $(VM)

# ---- the two commands from the README ----------------------------------------------------------
demo: deps hook  ## boot a VM, roll the hook out to its agent (test double), show a sandbox quota enforced
	@trap '$(VM_SH) down demo' EXIT; $(VM_SH) up demo >/dev/null; \
	ansible-playbook -i "$$($(VM_SH) inventory demo)" playbooks/demo.yml

# Three lanes at once (a TCG VM spends much of its time waiting on the controller, so three of them
# share this 2-core host well): the host checks, integration and MOLECULE_WITH_CHECKS (none by
# default) in one; MOLECULE_OWN_LANE in another, named after its first; the other Molecule scenarios
# in the third.
MOLECULE_SCENARIOS   := $(patsubst molecule/%/molecule.yml,%,$(wildcard molecule/*/molecule.yml))
MOLECULE_WITH_CHECKS ?=
MOLECULE_OWN_LANE    ?= cluster agent_variants
test: deps hook hook-sanitized  ## every kind of test CI runs; fails if any fails
	@tests/lanes.sh $(BUILD)/test-logs \
	    checks "$(MAKE) --no-print-directory test-checks" \
	    molecule "$(MAKE) --no-print-directory molecule-scenarios \
	        SCENARIOS='$(filter-out $(MOLECULE_WITH_CHECKS) $(MOLECULE_OWN_LANE),$(MOLECULE_SCENARIOS))'" \
	    $(firstword $(MOLECULE_OWN_LANE)) "$(MAKE) --no-print-directory molecule-scenarios SCENARIOS='$(MOLECULE_OWN_LANE)'"

test-checks: lint galaxy sanity units sanitize matrix integration
	@$(MAKE) --no-print-directory molecule-scenarios SCENARIOS="$(MOLECULE_WITH_CHECKS)"

# Under TCG a task costs ~3 s of a fresh Python in the VM unpacking and compiling its module; Mitogen's
# strategy keeps one interpreter per host and runs it in ~0.3 s (its start in a VM that boots beside
# two others can take more than Ansible's 10 s connection timeout); tests/mitogen has it without its
# CPU pinning. The integration targets and the Molecule scenarios run with it, except
# STOCK_STRATEGY_SCENARIOS, which keep Ansible's own linear strategy as operators run it (a module
# that needs a fresh process fails there).
MITOGEN = ANSIBLE_STRATEGY_PLUGINS=$(CURDIR)/tests/mitogen ANSIBLE_STRATEGY=mitogen_linear_unpinned ANSIBLE_TIMEOUT=60
STOCK_STRATEGY_SCENARIOS ?= uninstall
molecule-scenarios: deps
	@for s in $(SCENARIOS); do echo "== molecule test -s $$s"; \
	    if [[ " $(STOCK_STRATEGY_SCENARIOS) " == *" $$s "* ]]; then molecule test -s $$s; \
	    else env $(MITOGEN) molecule test -s $$s; fi; done

# Longer checks kept out of CI's hour: the hook role with agents of two Mesos versions, the second
# kernel, and the sanity tests on the older ansible-core versions (CI runs their unit tests). Run
# before a release.
test-more: hook-versions integration-bullseye matrix-sanity churn-soak check-converged  ## the checks kept out of CI's hour
	@echo "make test-more: all passed"

# ---- test kinds ----------------------------------------------------------------------------------
lint: deps  ## ansible-lint (production profile) and changelog fragments
	ansible-lint --profile production
	antsibull-changelog lint

sanity: deps sanity-only  ## ansible-test sanity in a temporary ansible_collections tree
sanity-only:
	@install -D -m 0644 tests/sanity/pip_bootstrap.py $(GET_PIP_CACHE)
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	dest=$$tmp/ansible_collections/mesos/xfs_quota; mkdir -p $$dest; \
	git ls-files -z --cached --others --exclude-standard | rsync -a --from0 --files-from=- ./ $$dest/; \
	cd $$dest && ansible-test sanity --color no --python 3.11

# Every ansible-core minor version that meta/runtime.yml's requires_ansible admits runs the unit
# tests (and, in test-more, the sanity tests): the pinned one (.venv) in `sanity` and `units`, the
# older ones here, each in its own venv from the package index. Keep MATRIX and requires_ansible in step.
MATRIX ?= 2.17 2.18
MATRIX_CHECKS ?= units-only
matrix: deps hook  ## unit tests on the other ansible-core versions the collection claims (MATRIX_CHECKS)
	@for v in $(MATRIX); do \
	    venv=$(BUILD)/matrix/$$v; \
	    if [ ! -f $$venv/.stamp ] || [ tests/requirements-matrix.txt -nt $$venv/.stamp ]; then \
	        python3 -m venv $$venv && $$venv/bin/pip install -q --disable-pip-version-check \
	            "ansible-core~=$$v.0" -r tests/requirements-matrix.txt && touch $$venv/.stamp; fi; \
	    echo "== ansible-core $$($$venv/bin/python -c 'import ansible.release as r; print(r.__version__)')"; \
	    $(MAKE) --no-print-directory $(MATRIX_CHECKS) BIN=$$venv/bin \
	        ANSIBLE_TEST_PIP=$$(sed -n "s/^ *pip='\([0-9.]*\)',/\1/p" $$venv/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py); \
	done

matrix-sanity: deps hook  ## sanity and unit tests on the other ansible-core versions (test-more)
	@$(MAKE) --no-print-directory matrix MATRIX_CHECKS="units-only sanity-only"

# site.yml --check --diff on a converged host (CI runs it on a fresh one, in the rollout scenario).
check-converged: deps hook  ## the rollout scenario's converge, then site.yml in check mode on it (test-more)
	@trap 'molecule destroy -s rollout' EXIT; \
	for step in destroy create prepare converge check; do molecule $$step -s rollout || exit 1; done

# The hook target with 10,000 launch/remove/GC cycles (CI runs 2,000).
churn-soak: deps hook hook-sanitized  ## the hook integration target with 10,000 churn cycles (test-more)
	@$(MAKE) --no-print-directory integration TARGETS=hook INTEGRATION_ARGS="-e mxq_churn_cycles=10000"

# The hook role on this host against two agent doubles of different Mesos versions (no VM; builds
# the hook once per version into .build/test-hook-versions, kept between runs).
hook-versions: deps hook  ## the hook role with agents of two Mesos versions (doubles on this host)
	PYTHONPATH=$(COLL_ROOT) pytest -q tests/controller

units: deps hook units-only  ## pytest unit tests (syscall boundary faked) and the hook core's kernel-free tests
units-only:
	$(HOOK_BUILD)/core_test --gtest_brief=1 --gtest_filter='Pure*'
	PYTHONPATH=$(COLL_ROOT) pytest -q tests/unit tests/doubles

integration: deps hook hook-sanitized  ## real-kernel integration targets in a throw-away VM
	@trap '$(VM_SH) down itest' EXIT; $(VM_SH) up itest >/dev/null; \
	$(MITOGEN) ANSIBLE_ROLES_PATH=tests/integration/targets:roles ansible-playbook -i "$$($(VM_SH) inventory itest)" tests/integration/run.yml $(if $(TARGETS),-e targets=$(TARGETS)) $(INTEGRATION_ARGS)

molecule: deps  ## every Molecule scenario on the QEMU VM (each under the strategy make test gives it)
	@$(MAKE) --no-print-directory molecule-scenarios SCENARIOS="$(MOLECULE_SCENARIOS)"

# ---- the second kernel: Debian bullseye (5.10, xfsprogs 5.10, Python 3.9) -----------------------
# Its VM image is tests/vm/image-recipe.sh with MXQ_VM_SUITE=bullseye; binaries for it are built in
# a bullseye chroot (this host's need glibc 2.34). `make test-more` runs the kernel, hook (churn: 1,000 cycles, not
# 10,000: 40 ms a cycle) and agent_service targets there; the whole rollout scenario on bullseye (the
# hook built in the TCG VM) is molecule-bullseye, run before a release (README support matrix).
BULLSEYE_TARGETS ?= kernel_xfs_quota,hook,agent_service
hook-bullseye: deps  ## the hook, its core tests and the agent double built for the bullseye VM
	@tests/vm/build-for-suite.sh bullseye $(BUILD)/hook-bullseye

integration-bullseye: deps hook-bullseye  ## BULLSEYE_TARGETS (kernel, hook, agent_service) on a bullseye VM (kernel 5.10)
	@trap 'MXQ_VM_SUITE=bullseye $(VM_SH) down itest-bullseye' EXIT; MXQ_VM_SUITE=bullseye $(VM_SH) up itest-bullseye >/dev/null; \
	ANSIBLE_ROLES_PATH=tests/integration/targets:roles ansible-playbook -i "$$($(VM_SH) inventory itest-bullseye)" \
	    tests/integration/run.yml -e targets=$(BULLSEYE_TARGETS) -e mxq_hook_build=$(BUILD)/hook-bullseye -e mxq_churn_cycles=1000

molecule-bullseye: deps hook-bullseye  ## the rollout scenario on a bullseye VM (the hook built in the VM)
	MXQ_VM_SUITE=bullseye molecule test -s rollout

bench: deps fuzz  ## ratio benchmarks under bench/ (after the fuzz run)
	@for b in bench/*.sh; do echo "== $$b"; bash "$$b"; done

hook: deps  ## build the hook, its core tests and the agent test double against the test-only Mesos API stub
	@cmake -S hook -B $(HOOK_BUILD) -DMXQ_MESOS_STUB=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(HOOK_BUILD) -j2 >$(HOOK_BUILD)/build.log 2>&1 || { cat $(HOOK_BUILD)/build.log; exit 1; }

# Built from a copy of the files git knows, whose README.md is the users' one (docs/README.md):
# Galaxy shows the README.md at the collection's root, and this repository's is for developers.
build: deps  ## ansible-galaxy collection build into .build/dist (README.md for users from docs/)
	@stage=$(BUILD)/stage/ansible_collections/mesos/xfs_quota; rm -rf $(BUILD)/stage; mkdir -p $$stage; \
	git ls-files -z --cached --others --exclude-standard | rsync -a --from0 --files-from=- ./ $$stage/; \
	cp docs/README.md $$stage/README.md; \
	ansible-galaxy collection build --force --output-path $(BUILD)/dist $$stage

# galaxy-importer pins attrs and flake8 below the development venv's, so it gets a venv of its own.
IMPORTER := $(BUILD)/importer
TARBALL   = $(BUILD)/dist/mesos-xfs_quota-$(shell sed -n 's/^version: *//p' galaxy.yml).tar.gz
$(IMPORTER)/.stamp: tests/requirements-importer.txt
	python3 -m venv $(IMPORTER)
	$(IMPORTER)/bin/pip install -q --disable-pip-version-check -r tests/requirements-importer.txt
	@touch $@

galaxy: build $(IMPORTER)/.stamp  ## galaxy-importer (Galaxy's upload checks, offline) on the built tarball; a warning fails
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; cd $$tmp; \
	env -u ANSIBLE_CONFIG -u ANSIBLE_COLLECTIONS_PATH HOME=$$tmp PATH=$(IMPORTER)/bin:/usr/bin:/bin \
	    GALAXY_IMPORTER_CONFIG=$(CURDIR)/tests/galaxy-importer.cfg \
	    $(IMPORTER)/bin/python -m galaxy_importer.main $(TARBALL) | tee importer.log; \
	if grep -E '^(WARNING|ERROR):' importer.log; then echo "galaxy: galaxy-importer reported the lines above" >&2; exit 1; fi
	tests/tarball_test.sh $(TARBALL) $(BIN)

clean:  ## remove build outputs (the VM image cache stays)
	rm -rf $(BUILD) tests/output

# ---- the hook under sanitizers and fuzzers (hook/fuzz/README.md) ---------------------------------
hook-sanitized: deps  ## the hook, its core tests and the agent double built with ASan + UBSan
	@cmake -S hook -B $(HOOK_SANITIZED) -DMXQ_MESOS_STUB=ON -DMXQ_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(HOOK_SANITIZED) -j2 --target core_test mesos-agent-double mesos_xfs_quota_hook \
	    >$(HOOK_SANITIZED)/build.log 2>&1 || { cat $(HOOK_SANITIZED)/build.log; exit 1; }

sanitize: hook-sanitized  ## kernel-free core tests under ASan + UBSan, then a 10 s fuzz slice per target
	$(HOOK_SANITIZED)/core_test --gtest_brief=1 --gtest_filter='Pure*'
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=10

fuzz: deps  ## the libFuzzer targets, FUZZ_SECONDS (60) each: executions and crashes per target
	@cmake -S hook -B $(HOOK_FUZZ) -DMXQ_MESOS_STUB=ON -DMXQ_TESTS=OFF -DMXQ_FUZZ=ON \
	    -DCMAKE_CXX_COMPILER=clang++-16 -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(HOOK_FUZZ) -j2 --target fuzz_config fuzz_size fuzz_labels fuzz_sandbox_path fuzz_log_text \
	    >$(HOOK_FUZZ)/build.log 2>&1 || { cat $(HOOK_FUZZ)/build.log; exit 1; }
	@hook/fuzz/run.sh $(HOOK_FUZZ) $(FUZZ_SECONDS)
