# The two commands a fresh machine needs: `make demo` and `make test`.
# Both create .venv themselves and install only from this repo's files.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test demo lint typecheck importlint unit controlplane upstream bench bench-peers constraints mutation clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

test: lint typecheck importlint controlplane upstream unit

# The real Kubernetes control plane for tests/cluster (etcd, kube-apiserver, kube-controller-manager,
# kubectl), built from pinned Go modules into ~/.cache/secretsync/ once per machine (needs Go).
controlplane:
	@bash tests/cluster/controlplane/build.sh >/dev/null

# ESO's and Bitnami's CRDs and doc manifests and Argo CD's health checks, pinned Go module zips from
# the module proxy (tests/support/upstream.py), fetched once per machine into ~/.cache/secretsync/.
upstream: $(STAMP)
	$(BIN)/python -m tests.support.upstream

lint: $(STAMP)
	$(BIN)/ruff check secretsync tests bench examples
	$(BIN)/ruff format --check secretsync tests bench examples

typecheck: $(STAMP)
	$(BIN)/mypy secretsync

importlint: $(STAMP)
	$(BIN)/lint-imports

# Every pytest run (tests/support/run_checks.py) stops at once if a package of the dev extra is
# missing, prints how many tests were skipped, and fails on a skip its allowlist does not name.
# Two test processes (pytest-xdist, whole files each: most tests wait on servers, not the CPU),
# then the tests that bound the wall-clock time of CPU work alone (tests/support/timing.py).
TEST_WORKERS ?= 2
unit: $(STAMP)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=15 -m "not timing"
	$(BIN)/python -m pytest -q --durations=5 -m timing

demo: $(STAMP)
	$(BIN)/python examples/demo.py

bench: $(STAMP)
	$(BIN)/python bench/seal.py

# secretsync against Bitnami Sealed Secrets and ESO on real control planes (bench/peers/README.md):
# builds the peers (Go), installs the plot's matplotlib, runs the 1,000-object set (~45 min);
# writes build/bench-peers/{results.json,table.md} and docs/peers-time-to-ready.png.
# More: make bench-peers BENCH_PEERS_ARGS="--counts 1000,5000,10000 --tools secretsync"
# secretsync itself runs on build/runtime-venv: its runtime dependencies only, as its image has them.
bench-peers: $(STAMP) controlplane upstream
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[bench]'
	test -x build/runtime-venv/bin/python || $(PYTHON) -m venv build/runtime-venv
	build/runtime-venv/bin/python -m pip install --quiet -c constraints.txt '.[all]'
	bash bench/peers/build.sh >/dev/null
	flock /tmp/secretsync-bench.lock $(BIN)/python bench/peers/run.py \
		--secretsync-python build/runtime-venv/bin/python $(BENCH_PEERS_ARGS)

# Mutation testing (mutmut, pinned in the mutation extra) of the core modules, each against its fast
# tests (tests/support/mutation.py; scores and survivors in docs/testing.md). Not part of `make test`:
# all modules take hours on 2 CPUs. One module: make mutation MODULE=secretsync/crypto.py
# Writes build/mutation/<module>.json. MUTATION_ARGS=--rerun re-runs only last run's survivors.
mutation: $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[mutation]'
	nice -n 19 $(BIN)/python -m tests.support.mutation $(MUTATION_ARGS) $(MODULE)

constraints: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable > constraints.new
	@echo "review constraints.new, then move it over constraints.txt"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
