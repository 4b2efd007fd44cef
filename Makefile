# Two commands on a fresh Debian machine: `make demo` and `make test`. The demo installs only
# what building and running Veil need (`make setup`); the tests add their own tools
# (`make setup-test`), the benchmarks theirs (`make setup-bench`). See scripts/setup.sh.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: setup setup-test setup-bench demo test bench
setup:
	@bash scripts/setup.sh demo

setup-test:
	@bash scripts/setup.sh test

setup-bench:
	@bash scripts/setup.sh bench

demo: setup
	@bash scripts/demo.sh

test: setup-test
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	python3 scripts/check/cycles.py
	$(CARGO) test --workspace
	$(CARGO) bench --workspace --no-run
	$(MAKE) --no-print-directory test-install
	$(MAKE) --no-print-directory test-scalar
	$(MAKE) --no-print-directory test-core-no-default
	$(MAKE) --no-print-directory test-masking-only
	$(MAKE) --no-print-directory test-doc
	$(MAKE) --no-print-directory test-deny

# Every benchmark and the comparisons with OpenCV, FFmpeg and deface; writes BENCHMARKS.md.
bench: setup-bench
	@bash scripts/bench/run.sh

# ---------------------------------------------------------------------------------------------
# make install [PREFIX=/usr/local] [DESTDIR=...] / make uninstall: the `redact` CLI, libveil
# (shared with a versioned soname, static, header, pkg-config file), the models with their
# manifest, man pages and shell completions. `make install-build` does the (release) build;
# `make install` runs it first unless NOBUILD=1 (e.g. `make install-build && sudo make install
# NOBUILD=1` when root has no Rust toolchain). Nothing installed needs Rust at run time.
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
VEIL_VERSION := $(shell sed -n 's/^version = "\([0-9.]*\)"/\1/p' Cargo.toml | head -n 1)
VEIL_SOMAJOR := $(firstword $(subst ., ,$(VEIL_VERSION)))
RELEASE_DIR = $(or $(CARGO_TARGET_DIR),target)/release
GEN_DIR = $(RELEASE_DIR)/veil-install
MODEL_FILES := $(shell awk -F'\t' 'NR > 1 && !/^\#/ && NF >= 2 { print "models/" $$2 }' models/manifest.tsv)
BASH_COMPLETION = $(DATADIR)/bash-completion/completions/redact
ZSH_COMPLETION = $(DATADIR)/zsh/site-functions/_redact
FISH_COMPLETION = $(DATADIR)/fish/vendor_completions.d/redact.fish
SYSTEMD_UNITDIR ?= $(PREFIX)/lib/systemd/system

.PHONY: install-build install uninstall test-install
install-build:
	$(CARGO) build --release -p veil -p veil-ffi --lib --example redact  # one build: one feature set
	rm -rf $(GEN_DIR) && mkdir -p $(GEN_DIR)/man
	$(RELEASE_DIR)/examples/redact -q generate-man $(GEN_DIR)/man
	for sh in bash zsh fish; do $(RELEASE_DIR)/examples/redact completions $$sh > $(GEN_DIR)/redact.$$sh; done

install: $(if $(NOBUILD),,install-build)
	@test -x $(RELEASE_DIR)/examples/redact -a -f $(RELEASE_DIR)/libveil.so -a -f $(GEN_DIR)/redact.fish \
	    || { echo "install: no release build: run make install-build first" >&2; exit 1; }
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR) \
	    $(DESTDIR)$(DATADIR)/veil/models $(DESTDIR)$(MANDIR)/man1 $(dir $(DESTDIR)$(BASH_COMPLETION)) \
	    $(dir $(DESTDIR)$(ZSH_COMPLETION)) $(dir $(DESTDIR)$(FISH_COMPLETION)) $(DESTDIR)$(SYSTEMD_UNITDIR)
	install -m 0755 $(RELEASE_DIR)/examples/redact $(DESTDIR)$(BINDIR)/redact
	install -m 0755 $(RELEASE_DIR)/libveil.so $(DESTDIR)$(LIBDIR)/libveil.so.$(VEIL_VERSION)
	ln -sfn libveil.so.$(VEIL_VERSION) $(DESTDIR)$(LIBDIR)/libveil.so.$(VEIL_SOMAJOR)
	ln -sfn libveil.so.$(VEIL_SOMAJOR) $(DESTDIR)$(LIBDIR)/libveil.so
	install -m 0644 $(RELEASE_DIR)/libveil.a $(DESTDIR)$(LIBDIR)/libveil.a
	install -m 0644 crates/veil-ffi/include/veil.h $(DESTDIR)$(INCLUDEDIR)/veil.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	    -e 's|@VERSION@|$(VEIL_VERSION)|' scripts/install/veil.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/veil.pc
	chmod 0644 $(DESTDIR)$(LIBDIR)/pkgconfig/veil.pc
	install -m 0644 models/manifest.tsv models/README.md $(MODEL_FILES) $(DESTDIR)$(DATADIR)/veil/models/
	install -m 0644 $(GEN_DIR)/man/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(GEN_DIR)/redact.bash $(DESTDIR)$(BASH_COMPLETION)
	install -m 0644 $(GEN_DIR)/redact.zsh $(DESTDIR)$(ZSH_COMPLETION)
	install -m 0644 $(GEN_DIR)/redact.fish $(DESTDIR)$(FISH_COMPLETION)
	sed -e 's|@BINDIR@|$(BINDIR)|' -e 's|@UNITDIR@|$(SYSTEMD_UNITDIR)|' scripts/install/veil-recorder.service.in \
	    > $(DESTDIR)$(SYSTEMD_UNITDIR)/veil-recorder.service
	chmod 0644 $(DESTDIR)$(SYSTEMD_UNITDIR)/veil-recorder.service
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then ldconfig 2>/dev/null || true; fi
	@echo "installed redact, libveil $(VEIL_VERSION) and the models under $(DESTDIR)$(PREFIX)"

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/redact $(DESTDIR)$(LIBDIR)/libveil.so $(DESTDIR)$(LIBDIR)/libveil.so.$(VEIL_SOMAJOR) \
	    $(DESTDIR)$(LIBDIR)/libveil.so.$(VEIL_VERSION) $(DESTDIR)$(LIBDIR)/libveil.a \
	    $(DESTDIR)$(INCLUDEDIR)/veil.h $(DESTDIR)$(LIBDIR)/pkgconfig/veil.pc \
	    $(DESTDIR)$(MANDIR)/man1/redact.1 $(DESTDIR)$(MANDIR)/man1/redact-*.1 \
	    $(DESTDIR)$(BASH_COMPLETION) $(DESTDIR)$(ZSH_COMPLETION) $(DESTDIR)$(FISH_COMPLETION) \
	    $(DESTDIR)$(SYSTEMD_UNITDIR)/veil-recorder.service
	rm -rf $(DESTDIR)$(DATADIR)/veil/models
	-rmdir $(DESTDIR)$(DATADIR)/veil 2>/dev/null

# Installs from a copy of this checkout into a temporary prefix, deletes the copy, and uses
# the installed redact and libveil from elsewhere (part of `make test`).
test-install:
	bash scripts/test-install.sh

# ---------------------------------------------------------------------------------------------
# CI legs of `make test` (each can also be run alone).
.PHONY: test-scalar test-core-no-default test-masking-only test-doc test-deny

# The whole test suite again on the scalar reference kernels: veil-core reads VEIL_CPU_LEVEL
# at run time (it can only lower the level), so nothing is rebuilt.
test-scalar:
	VEIL_CPU_LEVEL=scalar $(CARGO) test --workspace

# veil-core without rayon (its only default feature): the sequential path alone.
test-core-no-default:
	$(CARGO) test -p veil-core --no-default-features

# The masking-only libveil: no FFmpeg or ONNX Runtime crate in its dependency graph, and its
# tests (C programs against it, NEEDED entries, exported symbols, header guards) pass.
test-masking-only:
	@if $(CARGO) tree -p veil-ffi --no-default-features -e normal,build --prefix none \
	    | grep -E '^(ffmpeg|ort|veil-video|veil-detect|veil-redact)[- ]'; then \
	  echo "test-masking-only: veil-ffi --no-default-features depends on the crates above" >&2; exit 1; fi
	$(CARGO) test -p veil-ffi --no-default-features

# Documentation of every crate, warnings denied (broken intra-doc links, bad code blocks).
test-doc:
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps

# Licences and bans of the whole dependency graph (deny.toml); offline, no advisory database.
test-deny:
	$(CARGO) deny --offline --workspace --all-features check licenses bans

# Mutation testing of the masking core and the inzage layers (not part of `make test`; takes
# long; see README "Mutation testing"). Needs `cargo install --locked cargo-mutants`.
.PHONY: mutants
mutants:
	-nice -n 15 cargo mutants -p veil-core -f crates/veil-core/src/mask.rs -f crates/veil-core/src/stack.rs \
	    -f crates/veil-core/src/style.rs --profile mutants --timeout 300 -j 1 -o target/mutants-core
	-nice -n 15 cargo mutants -p veil-redact -f crates/veil-redact/src/layers.rs --cargo-test-arg=--lib \
	    --profile mutants --timeout 300 -j 1 -o target/mutants-layers
