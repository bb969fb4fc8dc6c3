# tracelib/tracelib.mk — the trace-reading library: $(BUILD)/tracelib/libmagslab-trace.a,
# every tracelib/*.c (trace discovery, the babeltrace2 graph, the damaged-trace checks, the
# stall watchdog: tracelib/graph.h).  Included by analysis/frontend.mk (build/bin/magslab)
# and workloads/workloads.mk (build/bin/magslab-workload), which both link the archive and
# compile with -Itracelib; it uses $(BUILD), $(CC), $(STDFLAGS), $(WFLAGS) and $(PREFIX)
# from the top-level Makefile.
#
#   make tracelib            $(BUILD)/tracelib/libmagslab-trace.a
#
# It needs libbabeltrace2 (flags from pkg-config; scripts/deps.sh installs
# libbabeltrace2-dev), never libmagslab, so every TRACE mode builds it the same way.
# MAGSLAB_PLUGINDIR, where an install puts the magslab babeltrace2 plugin (plugins.c looks
# there), follows PREFIX; the compile command is kept in a stamp file, so that a change of
# PREFIX, CC or flags rebuilds the objects.
#
# Guarded: both .mk files include it.

ifndef MAGSLAB_TRACELIB_MK
MAGSLAB_TRACELIB_MK := 1

TL_CFLAGS ?= -O2 -g
TL_SRCS   := $(sort $(wildcard tracelib/*.c))
TL_HDRS   := $(sort $(wildcard tracelib/*.h))
TL_OBJDIR := $(BUILD)/tracelib/obj
TL_OBJS   := $(patsubst tracelib/%.c,$(TL_OBJDIR)/%.o,$(TL_SRCS))
TL_LIB    := $(BUILD)/tracelib/libmagslab-trace.a
TL_STAMP  := $(TL_OBJDIR)/.flags
TL_BT_CFLAGS := $(shell pkg-config --cflags babeltrace2 2>/dev/null)
TL_BT_LIBS   := $(or $(shell pkg-config --libs babeltrace2 2>/dev/null),-lbabeltrace2)
TL_PLUGINDIR  = $(abspath $(PREFIX))/lib/babeltrace2/plugins
TL_CC_CMD     = $(CC) $(filter-out -fPIC,$(STDFLAGS)) $(WFLAGS) $(TL_CFLAGS) $(TL_BT_CFLAGS) \
		-DMAGSLAB_PLUGINDIR='"$(TL_PLUGINDIR)"'

.PHONY: tracelib
tracelib: $(TL_LIB)

$(TL_STAMP): FORCE
	@mkdir -p $(@D)
	@echo '$(TL_CC_CMD)' | cmp -s - $@ || echo '$(TL_CC_CMD)' > $@

$(TL_OBJDIR)/%.o: tracelib/%.c $(TL_HDRS) $(TL_STAMP) tracelib/tracelib.mk
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(TL_CC_CMD) -c $< -o $@

$(TL_LIB): $(TL_OBJS)
	@mkdir -p $(@D)
	@echo "  AR      $@"
	@rm -f $@ && $(AR) rcs $@ $^

endif
