# `make run` and `make test` do all the set-up on a fresh Debian machine with Python 3.11.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test check-config bench lock clean

# the releases in constraints.txt, not the newest: a new major release (OpenCV 5 on 2026-12-02) must not change
# what a fresh machine runs
$(BIN)/nvr: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade --constraint constraints.txt pip
	$(BIN)/pip install --quiet --constraint constraints.txt -e '.[test]'
	touch $@

run:
	./scripts/install-system-packages run
	$(MAKE) $(BIN)/nvr
	$(BIN)/nvr --config config.yaml run

test:
	./scripts/install-system-packages test
	$(MAKE) $(BIN)/nvr
	$(BIN)/ruff check .
	$(BIN)/mypy
	# four test processes share the two cores: most tests wait on cameras and processes in real time (2026-12-01,
	# a fresh clone: 3 took 685 s and used 1.2 cores, 4 took 570 s, 6 no less; 2026-12-03, another machine, the
	# corpus in two files: 4 took 974 s, 6 took 1,030, bound by the CPU: design/tests.md); the pace and timing
	# tests then run alone
	$(BIN)/pytest -q -n 4 --dist loadfile -m "not solo" --durations=25
	$(BIN)/pytest -q -m solo --durations=10

check-config: $(BIN)/nvr
	$(BIN)/nvr --config config.yaml check-config

bench: $(BIN)/nvr
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/clips.py
	$(BIN)/python benchmarks/motion_search.py
	$(BIN)/python benchmarks/export.py
	$(BIN)/python benchmarks/audio.py
	$(BIN)/python benchmarks/live.py
	$(BIN)/python benchmarks/relay.py
	$(BIN)/python benchmarks/transcode.py
	$(BIN)/python benchmarks/detect.py
	$(BIN)/python benchmarks/capacity.py
	$(BIN)/python benchmarks/metrics.py
	$(BIN)/python benchmarks/reconcile.py
	$(BIN)/python scripts/make_detect_corpus.py

# the newest releases pyproject.toml allows, installed into a scratch venv and written to constraints.txt
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --upgrade pip
	.lock-venv/bin/pip install --quiet '.[test]'
	{ grep '^#' constraints.txt; .lock-venv/bin/pip freeze --all | grep -v -E '^(setuptools==|station-nvr)'; } > constraints.new
	mv constraints.new constraints.txt
	rm -rf .lock-venv build

clean:
	rm -rf $(VENV) data
