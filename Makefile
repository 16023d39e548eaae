# tlsrptd - one non-recursive GNU Makefile.
#
#   make                 build the daemon, the CLI and the library (build/)
#   make test            install missing dependencies, build, run every test
#   make run             install missing dependencies, build, run tlsrptd in the foreground
#   make SAN=asan test   the same under AddressSanitizer + UBSan (build/asan/)
#   make SAN=tsan test   ThreadSanitizer (build/tsan/)
#   make CC=clang        build with clang (build/clang/)
#   make fuzz            libFuzzer harnesses with clang (build/fuzz/)
#   make fuzz-run FUZZ_SECONDS=N   run every harness for N seconds
#   make lint            clang-format check and banned-function check
#   make bench           benchmarks
#   make soak            30 min of mixed load on the daemon, RSS and fds sampled
#                        (SOAK_SECONDS=N for a shorter run; not part of test or CI)
#   make install PREFIX=/usr/local DESTDIR=
#
# Every source file under src/<layer>/ except src/cmd/ goes into build/libtlsrptd.a;
# src/cmd/<prog>.c (plus src/cmd/<prog>_*.c) is one program each.  Unit tests are
# tests/unit/test_*.c, one binary each; fuzz harnesses are tests/fuzz/fuzz_*.c.

.SUFFIXES:
.DELETE_ON_ERROR:
.DEFAULT_GOAL := all
SHELL := /bin/sh

VERSION := 0.1.0
SAN ?=
PREFIX ?= /usr/local
DESTDIR ?=
SHARED ?= ../shared
FUZZ_SECONDS ?= 60

ifneq ($(findstring clang,$(CC)),)
COMPILER := clang
else
COMPILER :=
endif

ifeq ($(SAN),fuzz)
CC := clang
COMPILER := clang
endif

B := build$(if $(COMPILER),/$(COMPILER))$(if $(SAN),/$(SAN))
ifeq ($(SAN)$(COMPILER),)
B := build
endif
ifeq ($(SAN),fuzz)
B := build/fuzz
endif

PKGS := openssl zlib jansson libcurl libunbound libmicrohttpd sqlite3 libpq
TEST_PKGS := cmocka

# pkg-config is asked once per make run; a missing package is reported by $(B)/.deps.
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
TEST_CFLAGS := $(shell pkg-config --cflags $(TEST_PKGS) 2>/dev/null)
TEST_LIBS := $(shell pkg-config --libs $(TEST_PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Wpedantic -Wformat=2 -Wshadow -Wmissing-prototypes -Werror
CPPFLAGS_ALL := -std=c17 -D_GNU_SOURCE -DOPENSSL_API_COMPAT=30000 -DOPENSSL_NO_DEPRECATED \
	-DTLSRPTD_VERSION='"$(VERSION)"' -Iinclude -Isrc
OPT := -O2 -g
HARDEN := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
HARDEN_LD := -pie -Wl,-z,relro,-z,now

ifeq ($(SAN),asan)
OPT := -O1 -g -fno-omit-frame-pointer
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all
HARDEN :=
HARDEN_LD :=
else ifeq ($(SAN),tsan)
OPT := -O1 -g
SANFLAGS := -fsanitize=thread
HARDEN :=
HARDEN_LD :=
else ifeq ($(SAN),fuzz)
OPT := -O1 -g -fno-omit-frame-pointer
SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
HARDEN :=
HARDEN_LD :=
else ifneq ($(SAN),)
$(error SAN must be asan, tsan or fuzz (got '$(SAN)'))
endif

CFLAGS ?=
LDFLAGS ?=
ALL_CFLAGS = $(CPPFLAGS_ALL) $(OPT) $(HARDEN) $(SANFLAGS) $(WARN) $(PKG_CFLAGS) $(CFLAGS) -MMD -MP
ALL_LDFLAGS = $(SANFLAGS) $(HARDEN_LD) $(LDFLAGS)
LIBS = $(PKG_LIBS) -lpthread -lm

# ---------------------------------------------------------------- sources
LIB_SRCS := $(sort $(filter-out src/cmd/%,$(wildcard src/*/*.c)))
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/obj/%.o)
LIB := $(B)/libtlsrptd.a

CLIENT_SRCS := $(sort $(wildcard src/client/*.c))
CLIENT_OBJS := $(CLIENT_SRCS:%.c=$(B)/obj/%.o)
CLIENT_LIB := $(B)/libtlsrptclient.a

# Programs: src/cmd/<name>.c is the main(); src/cmd/<name>_*.c are its other parts.
# (a make pattern has one %, so "src/cmd/%_%.c" cannot express "has an underscore")
PROG_MAINS := $(sort $(foreach f,$(wildcard src/cmd/*.c),$(if $(findstring _,$(notdir $(f))),,$(f))))
PROGS := $(PROG_MAINS:src/cmd/%.c=$(B)/%)
prog_srcs = src/cmd/$(1).c $(sort $(wildcard src/cmd/$(1)_*.c))

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/unit/%)
TEST_SUPPORT_SRCS := $(sort $(wildcard tests/support/*.c))
TEST_SUPPORT_OBJS := $(TEST_SUPPORT_SRCS:%.c=$(B)/obj/%.o)

FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES := $(FUZZ_SRCS:tests/fuzz/fuzz_%.c=%)
REPLAY_BINS := $(FUZZ_NAMES:%=$(B)/tests/fuzz/replay_%)
FUZZ_BINS := $(FUZZ_NAMES:%=build/fuzz/fuzz_%)

# Test helper programs (fake servers, drivers): tests/tools/<name>.c, one binary each.
TOOL_SRCS := $(sort $(wildcard tests/tools/*.c))
TOOL_BINS := $(TOOL_SRCS:tests/tools/%.c=$(B)/tests/tools/%)

BENCH_SRCS := $(sort $(wildcard bench/bench_*.c))
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(B)/bench/%)

ALL_OBJS := $(LIB_OBJS) $(TEST_SUPPORT_OBJS) \
	$(foreach p,$(PROG_MAINS:src/cmd/%.c=%),$(patsubst %.c,$(B)/obj/%.o,$(call prog_srcs,$(p))))

# ---------------------------------------------------------------- dependency check
$(B)/.deps:
	@mkdir -p $(@D)
	@for p in $(PKGS) $(TEST_PKGS); do \
		pkg-config --exists $$p 2>/dev/null || { \
			echo "make: missing library '$$p': run scripts/install-deps (as root) first" >&2; \
			exit 1; }; \
	done
	@touch $@

# ---------------------------------------------------------------- rules
all: $(PROGS) $(LIB) $(CLIENT_LIB)

# V=1 shows whole command lines.
Q := $(if $(V),,@)
$(B)/obj/%.o: %.c | $(B)/.deps
	@mkdir -p $(@D)
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) $(if $(filter tests/%,$<),$(TEST_CFLAGS)) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@mkdir -p $(@D)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(CLIENT_LIB): $(CLIENT_OBJS)
	@mkdir -p $(@D)
	@rm -f $@
	$(Q)ar rcs $@ $^

define PROG_RULE
$(B)/$(1): $(patsubst %.c,$(B)/obj/%.o,$(call prog_srcs,$(1))) $(LIB)
	@$$(if $$(V),,echo "  LINK    $$@")
	$$(Q)$$(CC) $$(ALL_LDFLAGS) -o $$@ $$^ $$(LIBS)
endef
$(foreach p,$(PROG_MAINS:src/cmd/%.c=%),$(eval $(call PROG_RULE,$(p))))

$(B)/tests/unit/%: $(B)/obj/tests/unit/%.o $(TEST_SUPPORT_OBJS) $(LIB)
	@mkdir -p $(@D)
	@$(if $(V),,echo "  LINK    $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(TEST_LIBS) $(LIBS)

$(B)/tests/fuzz/replay_%: $(B)/obj/tests/fuzz/fuzz_%.o $(B)/obj/tests/fuzz/replay.o $(LIB)
	@mkdir -p $(@D)
	@$(if $(V),,echo "  LINK    $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(B)/tests/tools/%: $(B)/obj/tests/tools/%.o $(LIB)
	@mkdir -p $(@D)
	@$(if $(V),,echo "  LINK    $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(B)/bench/%: $(B)/obj/bench/%.o $(LIB) $(CLIENT_LIB)
	@mkdir -p $(@D)
	@$(if $(V),,echo "  LINK    $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

build/fuzz/fuzz_%: build/fuzz/obj/tests/fuzz/fuzz_%.o build/fuzz/libtlsrptd.a
	@$(if $(V),,echo "  LINK    $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS)

.PRECIOUS: $(B)/obj/%.o

-include $(ALL_OBJS:.o=.d) $(UNIT_BINS:$(B)/tests/unit/%=$(B)/obj/tests/unit/%.d) \
	$(FUZZ_NAMES:%=$(B)/obj/tests/fuzz/fuzz_%.d) $(BENCH_SRCS:%.c=$(B)/obj/%.d) \
	$(TOOL_SRCS:%.c=$(B)/obj/%.d)

# ---------------------------------------------------------------- tests
# `make test` first installs what is missing, then builds and runs in a sub-make so
# that pkg-config sees the freshly installed packages.
.PHONY: all man test check run deps build-tests fuzz fuzz-run lint bench install clean soak

deps:
	@scripts/install-deps

test: deps
	@$(MAKE) --no-print-directory check

build-tests: $(PROGS) $(LIB) $(CLIENT_LIB) $(UNIT_BINS) $(REPLAY_BINS) $(TOOL_BINS) $(BENCH_BINS)

check: build-tests
	@B=$(B) SAN=$(SAN) SHARED=$(SHARED) tests/run-tests

run: deps
	@$(MAKE) --no-print-directory $(B)/tlsrptd $(B)/tlsrpt
	@mkdir -p var
	exec $(B)/tlsrptd --foreground --config etc/tlsrptd.toml

fuzz:
	@$(MAKE) --no-print-directory SAN=fuzz fuzz-bins

fuzz-bins: $(FUZZ_BINS)

fuzz-run: fuzz
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run-all $(FUZZ_NAMES)

bench: deps
	@$(MAKE) --no-print-directory $(PROGS) $(BENCH_BINS)
	@B=$(B) bench/run

# soak: SOAK_SECONDS of mixed load on the real daemon (tests/soak/soak.py); not in CI.
SOAK_SECONDS ?= 1800
soak: deps
	@$(MAKE) --no-print-directory $(PROGS)
	@B=$(B) SHARED=$(SHARED) SOAK_SECONDS=$(SOAK_SECONDS) tests/soak/soak.py

lint:
	@tests/lint

# tlsrptd.toml(5) lists the keys from the program's own key table.
$(B)/man/tlsrptd.toml.5: man/tlsrptd.toml.5.in $(B)/tlsrpt scripts/gen-conf-man
	@mkdir -p $(@D)
	scripts/gen-conf-man $(B)/tlsrpt man/tlsrptd.toml.5.in $@

man: $(B)/man/tlsrptd.toml.5

install: all man
	install -d $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
		$(DESTDIR)$(PREFIX)/share/man/man8
	install -m 644 man/tlsrpt.1 $(DESTDIR)$(PREFIX)/share/man/man1/tlsrpt.1
	install -m 644 $(B)/man/tlsrptd.toml.5 $(DESTDIR)$(PREFIX)/share/man/man5/tlsrptd.toml.5
	install -m 644 man/tlsrptd.8 $(DESTDIR)$(PREFIX)/share/man/man8/tlsrptd.8
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/lib \
		$(DESTDIR)$(PREFIX)/include $(DESTDIR)/etc/tlsrptd $(DESTDIR)/etc/sysctl.d \
		$(DESTDIR)$(PREFIX)/lib/systemd/system
	install -m 755 $(B)/tlsrptd $(DESTDIR)$(PREFIX)/sbin/tlsrptd
	install -m 755 $(B)/tlsrpt $(DESTDIR)$(PREFIX)/bin/tlsrpt
	install -m 644 $(CLIENT_LIB) $(DESTDIR)$(PREFIX)/lib/
	install -m 644 include/tlsrptd.h $(DESTDIR)$(PREFIX)/include/
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig
	printf 'prefix=%s\nlibdir=$${prefix}/lib\nincludedir=$${prefix}/include\n\nName: tlsrptd-client\nDescription: report TLS outcomes of SMTP deliveries to tlsrptd\nVersion: %s\nLibs: -L$${libdir} -ltlsrptclient\nCflags: -I$${includedir}\n' \
		'$(PREFIX)' '$(VERSION)' >$(DESTDIR)$(PREFIX)/lib/pkgconfig/tlsrptd-client.pc
	install -m 640 etc/tlsrptd.toml $(DESTDIR)/etc/tlsrptd/tlsrptd.toml.example
	install -m 644 etc/sysctl.d/60-tlsrptd.conf $(DESTDIR)/etc/sysctl.d/60-tlsrptd.conf
	sed 's|/usr/local/sbin/|$(PREFIX)/sbin/|g' etc/tlsrptd.service \
		>$(DESTDIR)$(PREFIX)/lib/systemd/system/tlsrptd.service
	install -d $(DESTDIR)$(PREFIX)/lib/sysusers.d
	install -m 644 etc/sysusers.d/tlsrptd.conf $(DESTDIR)$(PREFIX)/lib/sysusers.d/tlsrptd.conf

clean:
	rm -rf build
