# workloads/workloads.mk — the workload generator, included at the end of
# the top-level Makefile (it uses $(BUILD), $(CC), $(STDFLAGS), $(WFLAGS),
# $(STATIC_LIB), $(LIB_HDRS) and $(LIB_LDLIBS) from there).
#
#   make workloads                      build/bin/magslab-workload
#   build/bin/magslab-workload --help   the subcommands
#
# Every workloads/*.c goes into the one program.  The static library goes in
# whole (--whole-archive) so that the LTTng-UST tracepoint provider object of a
# TRACE=1 build, which nothing references, is linked and registers its probes:
# the phases subcommand's magslab:workload_phase markers need it.
# $(LIB_LDLIBS) is -pthread, plus -llttng-ust -ldl in a tracing build.
#
# Besides libmagslab it links jansson (the JSON result, json.c) and the
# trace-reading library $(TL_LIB) (tracelib/tracelib.mk: replay_ctf.c reads CTF
# traces through it, as the front end does), hence libbabeltrace2 too, in every
# TRACE mode (TRACE only changes libmagslab; scripts/deps.sh installs
# libjansson-dev and libbabeltrace2-dev).  Flags from pkg-config.
#
# Guarded, so that `make -f Makefile -f workloads/workloads.mk` also works
# when the Makefile includes this file already.

ifndef MAGSLAB_WORKLOADS_MK
MAGSLAB_WORKLOADS_MK := 1

WL_CFLAGS ?= -O2 -g
WL_SRCS   := $(sort $(wildcard workloads/*.c))
WL_HDRS   := $(sort $(wildcard workloads/*.h))
WL_BIN    := $(BUILD)/bin/magslab-workload
WL_BT_CFLAGS := $(shell pkg-config --cflags babeltrace2 2>/dev/null)
WL_BT_LIBS   := $(or $(shell pkg-config --libs babeltrace2 2>/dev/null),-lbabeltrace2)
WL_JS_CFLAGS := $(shell pkg-config --cflags jansson 2>/dev/null)
WL_JS_LIBS   := $(or $(shell pkg-config --libs jansson 2>/dev/null),-ljansson)

.PHONY: workloads
workloads: $(WL_BIN)

include tracelib/tracelib.mk

$(WL_BIN): $(WL_SRCS) $(WL_HDRS) $(TL_HDRS) $(TL_LIB) $(STATIC_LIB) $(LIB_HDRS) workloads/workloads.mk
	@mkdir -p $(@D)
	@echo "  CC+LD   $@"
	@$(CC) $(filter-out -fPIC,$(STDFLAGS)) $(WFLAGS) $(WL_CFLAGS) \
		-Ilib/include -Iworkloads -Itracelib $(WL_BT_CFLAGS) $(WL_JS_CFLAGS) \
		-o $@ $(WL_SRCS) $(TL_LIB) \
		-Wl,--whole-archive $(STATIC_LIB) -Wl,--no-whole-archive \
		$(WL_BT_LIBS) $(WL_JS_LIBS) $(LIB_LDLIBS) -pthread -lm

endif
