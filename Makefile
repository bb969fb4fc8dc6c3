# magslab — build, install and test.
#
#   make                  library: build/lib/libmagslab.{a,so} + build/lib/pkgconfig/magslab.pc
#   make deps             check (and as root install) the Debian packages we need
#   make check            deps + every test: plain (gcc), ASan+UBSan (clang), TSan (clang,
#                         *_mt tests), README example, clang -Werror build; ends with TOTAL line
#   make check-plain | check-norseq | check-locked | check-asan | check-tsan | check-other
#                         one configuration only (norseq/locked: the plain tests with
#                         rseq off in glibc / MAGSLAB_PCC_MODE=locked)
#   make check TESTS=test_arena            (or TESTS="arena hash") a subset of the tests
#   make tests            build the plain test binaries only
#   make install PREFIX=/tmp/x [DESTDIR=]  headers, libraries and magslab.pc
#   make uninstall PREFIX=/tmp/x
#   make demo             deps + build + `magslab run` of the default workload (an
#                         oversubscribed burst: the magazines grow), report in out/demo/
#   make clean
#   make TRACE=0|1|full   tracing build mode (default 1; see "Tracing" below); every target
#                         takes it, e.g. `make TRACE=0 check`
#
# All output goes under $(BUILD) (default build/).  Library sources are every lib/src/*.c;
# tests are every tests/test_*.c (each a standalone cmocka program).

.DEFAULT_GOAL := all
SHELL := /bin/bash
.DELETE_ON_ERROR:
.SUFFIXES:

# `make -j clean all` must not build while it deletes.
ifneq ($(filter clean,$(MAKECMDGOALS)),)
.NOTPARALLEL:
endif

VERSION   := 0.1.0
SOVERSION := 0

BUILD   ?= build
PREFIX  ?= /usr/local
DESTDIR ?=

# Compilers: CC for the library and the plain tests (gcc by default; `CC=clang make`
# works too), SAN_CC for the sanitizer builds.
ifeq ($(origin CC),default)
CC := gcc
endif
SAN_CC ?= clang
AR     ?= ar

# CFLAGS is the user-tunable part (optimisation, debug info); the rest is fixed.
CFLAGS   ?= -O2 -g
WFLAGS   := -Wall -Wextra -Werror
STDFLAGS := -std=c11 -D_GNU_SOURCE -fPIC -pthread
INCLUDES := -Ilib/include -Ilib/src
DEPFLAGS := -MMD -MP
# ---- TRACE: begin (tracing build mode) ----------------------------------------------
# TRACE=1 (default)  the LTTng-UST provider tracepoints/magslab_tp.c is compiled into
#                    libmagslab (.so and .a) and every test; they link -llttng-ust -ldl.
# TRACE=full         as 1, plus the per-object alloc/free events (MAGSLAB_TRACE_FULL=1).
# TRACE=0            no provider, every tracepoint compiled away, no liblttng-ust anywhere.
# The mode's -D flags are part of each configuration's compile command, so the flags stamp
# (see "One build configuration") rebuilds every object when TRACE changes: objects of one
# mode are never linked into another.  Why the provider lives inside libmagslab: the
# comment at the top of tracepoints/magslab_tp.h.
TRACE ?= 1
ifeq ($(TRACE),0)
TRACE_CFLAGS := -DMAGSLAB_TRACE=0 -DMAGSLAB_TRACE_FULL=0
TRACE_SRCS   :=
TRACE_LDLIBS :=
else ifeq ($(TRACE),1)
TRACE_CFLAGS := -DMAGSLAB_TRACE=1 -DMAGSLAB_TRACE_FULL=0 -Itracepoints
TRACE_SRCS   := tracepoints/magslab_tp.c
TRACE_LDLIBS := -llttng-ust -ldl
else ifeq ($(TRACE),full)
TRACE_CFLAGS := -DMAGSLAB_TRACE=1 -DMAGSLAB_TRACE_FULL=1 -Itracepoints
TRACE_SRCS   := tracepoints/magslab_tp.c
TRACE_LDLIBS := -llttng-ust -ldl
else
$(error TRACE must be 0, 1 or full (got '$(TRACE)'))
endif
# ---- TRACE: end ----------------------------------------------------------------------

# What the shared library links against (also Libs.private in magslab.pc).
LIB_LDLIBS  := -pthread $(TRACE_LDLIBS)
TEST_LDLIBS := -lcmocka -pthread -lm $(TRACE_LDLIBS)

ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	      -fno-sanitize-recover=all
TSAN_FLAGS := -O1 -g -fsanitize=thread -fno-omit-frame-pointer

LIB_SRCS  := $(sort $(wildcard lib/src/*.c))
LIB_HDRS  := $(sort $(wildcard lib/include/magslab/*.h))
TEST_SRCS := $(sort $(wildcard tests/test_*.c))
ALL_TESTS := $(patsubst tests/%.c,%,$(TEST_SRCS))

# TESTS selects a subset: names with or without the test_ prefix.
ifneq ($(strip $(TESTS)),)
SEL_TESTS := $(foreach t,$(basename $(notdir $(TESTS))),$(if $(filter test_%,$(t)),$(t),test_$(t)))
UNKNOWN_TESTS := $(filter-out $(ALL_TESTS),$(SEL_TESTS))
ifneq ($(UNKNOWN_TESTS),)
$(error TESTS: no tests/$(firstword $(UNKNOWN_TESTS)).c (have: $(ALL_TESTS)))
endif
else
SEL_TESTS := $(ALL_TESTS)
endif
SEL_MT_TESTS := $(filter %_mt,$(SEL_TESTS))

LIBDIR      := $(BUILD)/lib
STATIC_LIB  := $(LIBDIR)/libmagslab.a
SHARED_REAL := $(LIBDIR)/libmagslab.so.$(VERSION)
SHARED_SO   := $(LIBDIR)/libmagslab.so.$(SOVERSION)
SHARED_LINK := $(LIBDIR)/libmagslab.so
PC_FILE     := $(LIBDIR)/pkgconfig/magslab.pc
PC_UNINST   := $(LIBDIR)/pkgconfig/magslab-uninstalled.pc

ABS_PREFIX   = $(abspath $(PREFIX))
INST_LIBDIR  = $(DESTDIR)$(ABS_PREFIX)/lib
INST_INCDIR  = $(DESTDIR)$(ABS_PREFIX)/include/magslab

FORCE:
.PHONY: FORCE all lib install-tools deps check check-plain check-norseq check-locked check-asan check-tsan check-other tests \
	tests-plain tests-asan tests-tsan install uninstall demo clean

# ---------------------------------------------------------------------------
# One build configuration: objects under $(BUILD)/<dir>obj, tests under $(BUILD)/<dir>tests.
# A stamp file holding the compile command makes a flags or compiler change rebuild
# everything in that configuration.
#   $(1) name  $(2) directory prefix under $(BUILD)  $(3) compiler  $(4) extra flags
#   $(5) tests to build
define config
$(1)_CC      := $(3)
$(1)_CFLAGS  := $(STDFLAGS) $(WFLAGS) $(4) $(INCLUDES) $(TRACE_CFLAGS)
$(1)_OBJDIR  := $(BUILD)/$(2)obj
$(1)_TESTDIR := $(BUILD)/$(2)tests
$(1)_LIBOBJS := $$(patsubst lib/src/%.c,$$($(1)_OBJDIR)/lib/%.o,$(LIB_SRCS)) \
		$$(patsubst tracepoints/%.c,$$($(1)_OBJDIR)/tracepoints/%.o,$(TRACE_SRCS))
$(1)_STAMP   := $$($(1)_OBJDIR)/.flags
$(1)_TESTS   := $$(addprefix $$($(1)_TESTDIR)/,$(5))

$$($(1)_STAMP): FORCE
	@mkdir -p $$(@D)
	@echo '$$($(1)_CC) $$($(1)_CFLAGS)' | cmp -s - $$@ || \
		echo '$$($(1)_CC) $$($(1)_CFLAGS)' > $$@

$$($(1)_OBJDIR)/lib/%.o: lib/src/%.c $$($(1)_STAMP)
	@mkdir -p $$(@D)
	@echo "  CC [$(1)] $$<"
	@$$($(1)_CC) $$($(1)_CFLAGS) $(DEPFLAGS) -c $$< -o $$@

# The tracepoint provider (TRACE=1/full only: it is in LIBOBJS only then).
$$($(1)_OBJDIR)/tracepoints/%.o: tracepoints/%.c $$($(1)_STAMP)
	@mkdir -p $$(@D)
	@echo "  CC [$(1)] $$<"
	@$$($(1)_CC) $$($(1)_CFLAGS) $(DEPFLAGS) -c $$< -o $$@

$$($(1)_OBJDIR)/tests/%.o: tests/%.c $$($(1)_STAMP)
	@mkdir -p $$(@D)
	@echo "  CC [$(1)] $$<"
	@$$($(1)_CC) $$($(1)_CFLAGS) $(DEPFLAGS) -c $$< -o $$@

$$($(1)_TESTDIR)/%: $$($(1)_OBJDIR)/tests/%.o $$($(1)_LIBOBJS) | no-sources
	@mkdir -p $$(@D)
	@echo "  LD [$(1)] $$@"
	@$$($(1)_CC) $$($(1)_CFLAGS) -o $$@ $$< $$($(1)_LIBOBJS) $(TEST_LDLIBS)

tests-$(1): $$($(1)_TESTS)

-include $$(wildcard $$($(1)_OBJDIR)/lib/*.d $$($(1)_OBJDIR)/tests/*.d \
	$$($(1)_OBJDIR)/tracepoints/*.d)
endef

$(eval $(call config,plain,,$(CC),$(CFLAGS),$(SEL_TESTS)))
$(eval $(call config,asan,asan/,$(SAN_CC),$(ASAN_FLAGS),$(SEL_TESTS)))
$(eval $(call config,tsan,tsan/,$(SAN_CC),$(TSAN_FLAGS),$(SEL_MT_TESTS)))

# The test objects are precious intermediates, not temporaries.
.SECONDARY:

tests: tests-plain

# ---------------------------------------------------------------------------
# The library.

all: lib workloads
lib: $(STATIC_LIB) $(SHARED_LINK) $(PC_FILE) $(PC_UNINST)

.PHONY: no-sources
no-sources:
	@if [ -z "$(LIB_SRCS)" ]; then \
		echo "magslab: no library sources in lib/src/*.c yet" >&2; exit 1; fi

$(STATIC_LIB): $(plain_LIBOBJS) | no-sources
	@mkdir -p $(@D)
	@echo "  AR      $@"
	@rm -f $@ && $(AR) rcs $@ $^

$(SHARED_REAL): $(plain_LIBOBJS) | no-sources
	@mkdir -p $(@D)
	@echo "  LD      $@"
	@$(CC) $(plain_CFLAGS) -shared -Wl,-soname,libmagslab.so.$(SOVERSION) -Wl,-z,defs \
		-o $@ $^ $(LIB_LDLIBS)

$(SHARED_SO): $(SHARED_REAL)
	@ln -sf $(notdir $<) $@

$(SHARED_LINK): $(SHARED_SO)
	@ln -sf $(notdir $<) $@

# pkg-config file for PREFIX (what `make install` writes), and an -uninstalled one that
# pkg-config prefers when PKG_CONFIG_PATH=build/lib/pkgconfig: it points into this tree.
PC_SED = sed -e 's|@PREFIX@|$(1)|g' -e 's|@LIBDIR@|$(2)|g' -e 's|@INCLUDEDIR@|$(3)|g' \
	     -e 's|@VERSION@|$(VERSION)|g' -e 's|@LIBS_PRIVATE@|$(LIB_LDLIBS)|g'

$(PC_FILE): lib/magslab.pc.in FORCE
	@mkdir -p $(@D)
	@$(call PC_SED,$(ABS_PREFIX),$${prefix}/lib,$${prefix}/include) $< > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv -f $@.tmp $@

$(PC_UNINST): lib/magslab.pc.in FORCE
	@mkdir -p $(@D)
	@$(call PC_SED,$(CURDIR),$(abspath $(LIBDIR)),$${prefix}/lib/include) $< > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv -f $@.tmp $@

# ---------------------------------------------------------------------------
# Install.  The .pc is written for the PREFIX given here (not copied from the build).

install: lib
	install -d $(INST_INCDIR) $(INST_LIBDIR)/pkgconfig
	install -m 644 $(LIB_HDRS) $(INST_INCDIR)/
	install -m 644 $(STATIC_LIB) $(INST_LIBDIR)/
	install -m 755 $(SHARED_REAL) $(INST_LIBDIR)/
	ln -sf libmagslab.so.$(VERSION) $(INST_LIBDIR)/libmagslab.so.$(SOVERSION)
	ln -sf libmagslab.so.$(SOVERSION) $(INST_LIBDIR)/libmagslab.so
	$(call PC_SED,$(ABS_PREFIX),$${prefix}/lib,$${prefix}/include) lib/magslab.pc.in \
		> $(INST_LIBDIR)/pkgconfig/magslab.pc
	@# A system-wide install as root: refresh the dynamic linker cache.
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && \
	    { [ "$(ABS_PREFIX)" = /usr/local ] || [ "$(ABS_PREFIX)" = /usr ]; }; then \
		echo ldconfig; ldconfig; fi

# The programs and the babeltrace2 plugin (after `make`): bin/magslab, bin/magslab-workload
# and lib/babeltrace2/plugins/babeltrace-plugin-magslab.so, where `magslab report` finds it.
install-tools: all
	install -d $(DESTDIR)$(ABS_PREFIX)/bin $(DESTDIR)$(ABS_PREFIX)/lib/babeltrace2/plugins
	install -m 755 $(FE_BIN) $(WL_BIN) $(DESTDIR)$(ABS_PREFIX)/bin/
	install -m 755 $(BT_PLUGIN_SO) $(DESTDIR)$(ABS_PREFIX)/lib/babeltrace2/plugins/

uninstall:
	rm -f $(addprefix $(INST_INCDIR)/,$(notdir $(LIB_HDRS)))
	-rmdir $(INST_INCDIR) 2>/dev/null
	rm -f $(INST_LIBDIR)/libmagslab.a $(INST_LIBDIR)/libmagslab.so \
	      $(INST_LIBDIR)/libmagslab.so.$(SOVERSION) $(INST_LIBDIR)/libmagslab.so.$(VERSION) \
	      $(INST_LIBDIR)/pkgconfig/magslab.pc

# ---------------------------------------------------------------------------
# Dependencies, tests, demo.

deps:
	@scripts/deps.sh

# The runner builds each configuration itself (so that a build failure is counted
# and the other configurations still run) and prints the TOTAL line last.
RUN_TESTS = @MAKE="$(MAKE)" BUILD="$(BUILD)" TESTS="$(SEL_TESTS)" CC="$(CC)" \
	SAN_CC="$(SAN_CC)" TRACE="$(TRACE)" CONFIGS="$(1)" tests/run-tests.sh

check: deps
	+$(call RUN_TESTS,plain norseq locked asan tsan other lttng)
check-plain: deps
	+$(call RUN_TESTS,plain)
check-norseq: deps
	+$(call RUN_TESTS,norseq)
check-locked: deps
	+$(call RUN_TESTS,locked)
check-asan: deps
	+$(call RUN_TESTS,asan)
check-tsan: deps
	+$(call RUN_TESTS,tsan)
check-other: deps
	+$(call RUN_TESTS,other)
check-lttng: deps
	+$(call RUN_TESTS,lttng)

# The demo: phases on 2 worker threads — 1 s idle, a 4 s burst of 8 unpaced threads (more
# than the cores: pcc and depot contention, so the akaros policy grows the magazines),
# 3 s steady at a paced rate (the size holds), 1 s idle.  ~10 s of workload, ~10 M events.
# --objsize 1k: objects above 512 bytes are kept by bufctl (lib/src/slab.c), whose hash
# table grows as the burst takes objects out, so the report shows all four things the tool
# is for: magazine swaps (depot exchanges, per slot), depot contention, magsize bumps and
# hash resizes; no plot of the demo's report is empty (tests/test_report_views.sh: demo).
# --blocking: the burst makes events faster than the consumer daemon, which shares the
# two cores with it, can save them; the workload waits instead of events being lost, so
# every count in the report is exact.
DEMO_OUT  ?= out/demo
DEMO_ARGS ?= phases --threads 2 --objsize 1k --schedule idle:1s,burst:4s,steady:3s,idle:1s --blocking
demo: deps
	@if [[ "$(TRACE)" == 0 ]]; then \
		echo "make demo: a TRACE=0 build emits no events; run it with TRACE=1 (the default)" >&2; \
		exit 2; fi
	+@$(MAKE) --no-print-directory all
	@echo "make demo: magslab run $(DEMO_ARGS) -o $(DEMO_OUT)"
	@$(BUILD)/bin/magslab run $(DEMO_ARGS) -o $(DEMO_OUT)
	@echo
	@echo "make demo: open $(abspath $(DEMO_OUT))/index.html"

clean:
	rm -rf $(BUILD)

# Benchmarks (make bench): every bench/*.c as build/bin/bench-NAME.
-include bench/bench.mk

# The malloc replacement (part of lib): build/lib/libmagslab-malloc.so.
-include lib/malloc/malloc.mk

# Workload generators (make workloads): build/bin/magslab-workload.
-include workloads/workloads.mk

# The front end (make frontend, part of all): build/bin/magslab.
-include analysis/frontend.mk

# The babeltrace2 plugin sink.magslab.report (make analysis-plugin, part of all):
# build/lib/babeltrace2/plugins/babeltrace-plugin-magslab.so.
-include analysis/analysis.mk
