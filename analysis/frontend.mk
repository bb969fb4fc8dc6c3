# analysis/frontend.mk — the front end build/bin/magslab (every analysis/*.c: the map of
# the modules is in analysis/magslab.c), included at the end of the top-level Makefile (it
# uses $(BUILD), $(CC), $(STDFLAGS), $(WFLAGS) and $(PREFIX) from there).  It links the
# trace-reading library $(TL_LIB) (tracelib/tracelib.mk: discovery, the babeltrace2 graph,
# damaged-trace checks, the stall watchdog; its headers through -Itracelib), as
# magslab-workload does.
#
#   make frontend            build/bin/magslab
#   build/bin/magslab --help
#
# It links libbabeltrace2 (reading traces), liblttng-ctl (session control for record,
# run and live) and libjansson (the report's manifest.json and summary.json,
# magslab-workload's JSON in tune); scripts/deps.sh
# installs their -dev packages.  Not libmagslab: it drives the workload program and reads
# traces, whatever TRACE mode built the library.  At run time it loads the magslab babeltrace2 plugin from
# ../lib/babeltrace2/plugins beside itself (build/lib/babeltrace2/plugins), or
# $MAGSLAB_PLUGIN_PATH, or MAGSLAB_PLUGINDIR below (where an install puts it).  The same
# for the malloc shim of --preload (analysis/preload.c): ../lib beside itself, or
# $MAGSLAB_MALLOC_LIB, or MAGSLAB_LIBDIR (PREFIX/lib, where `make install` puts it).
#
# Guarded, so that `make -f Makefile -f analysis/frontend.mk` also works when the Makefile
# includes this file already.

ifndef MAGSLAB_FRONTEND_MK
MAGSLAB_FRONTEND_MK := 1

FE_CFLAGS ?= -O2 -g
# Every analysis/*.c is one module of the front end (the plugin lives in analysis/plugin/).
FE_SRCS   := $(sort $(wildcard analysis/*.c))
FE_HDRS   := $(sort $(wildcard analysis/*.h))
FE_BIN    := $(BUILD)/bin/magslab
FE_BT_CFLAGS := $(shell pkg-config --cflags babeltrace2 2>/dev/null)
FE_BT_LIBS   := $(or $(shell pkg-config --libs babeltrace2 2>/dev/null),-lbabeltrace2)
FE_LT_CFLAGS := $(shell pkg-config --cflags lttng-ctl 2>/dev/null)
FE_LT_LIBS   := $(or $(shell pkg-config --libs lttng-ctl 2>/dev/null),-llttng-ctl)
FE_JS_CFLAGS := $(shell pkg-config --cflags jansson 2>/dev/null)
FE_JS_LIBS   := $(or $(shell pkg-config --libs jansson 2>/dev/null),-ljansson)

include tracelib/tracelib.mk

.PHONY: frontend
frontend: $(FE_BIN)
all: frontend

FE_LIBDIR  = $(abspath $(PREFIX))/lib

# $(TL_STAMP) changes with PREFIX (tracelib.mk): MAGSLAB_LIBDIR follows it.
$(FE_BIN): $(FE_SRCS) $(FE_HDRS) $(TL_HDRS) $(TL_LIB) $(TL_STAMP) analysis/frontend.mk
	@mkdir -p $(@D)
	@echo "  CC+LD   $@"
	@$(CC) $(filter-out -fPIC,$(STDFLAGS)) $(WFLAGS) $(FE_CFLAGS) $(FE_BT_CFLAGS) \
		$(FE_LT_CFLAGS) $(FE_JS_CFLAGS) -Itracelib -DMAGSLAB_LIBDIR='"$(FE_LIBDIR)"' \
		-o $@ $(FE_SRCS) $(TL_LIB) $(FE_BT_LIBS) $(FE_LT_LIBS) $(FE_JS_LIBS) -lm

endif
