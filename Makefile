# Two commands on a fresh Debian machine: `make demo` and `make test`. Both run `make setup` first.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: setup demo test bench
setup:
	@bash scripts/setup.sh

demo: setup
	@bash scripts/demo.sh

test: setup
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) test --workspace
	$(CARGO) bench --workspace --no-run

# Every benchmark and the comparisons with OpenCV, FFmpeg and deface; writes BENCHMARKS.md.
bench: setup
	@bash scripts/bench/run.sh
