# analysis/analysis.mk — the babeltrace2 plugin of magslab, included at the end of the
# top-level Makefile (it uses $(BUILD), $(CC), $(STDFLAGS), $(WFLAGS) from there).
#
#   make analysis-plugin      $(BUILD)/lib/babeltrace2/plugins/babeltrace-plugin-magslab.so
#                             (also part of `make all`)
#
# The plugin holds one component class, sink.magslab.report (docs/report.md):
#
#   babeltrace2 --plugin-path=build/lib/babeltrace2/plugins TRACE \
#       -c sink.magslab.report -p 'output-dir="OUT"'
#
# babeltrace2 loads every file of a --plugin-path directory whose name ends in .so (the
# babeltrace-plugin- prefix is the convention of the system plugins, kept here).  Sources:
# every analysis/plugin/*.c, compiled together into the shared object (map of the files:
# analysis/plugin/report.h); it needs libbabeltrace2, libjansson (summary.json, the
# manifest) and libm (flags from pkg-config), not libmagslab.  -z defs: every symbol is
# resolved at link time, so the stock babeltrace2 CLI can always load it.
#
# Guarded, so that `make -f Makefile -f analysis/analysis.mk` also works when the Makefile
# includes this file already.

ifndef MAGSLAB_ANALYSIS_MK
MAGSLAB_ANALYSIS_MK := 1

BT_PLUGIN_DIR      := $(BUILD)/lib/babeltrace2/plugins
BT_PLUGIN_SO       := $(BT_PLUGIN_DIR)/babeltrace-plugin-magslab.so
BT_PLUGIN_SRCS     := $(sort $(wildcard analysis/plugin/*.c))
BT_PLUGIN_HDRS     := $(sort $(wildcard analysis/plugin/*.h))
BT_PLUGIN_CFLAGS   ?= -O2 -g
BT_PLUGIN_BTCFLAGS := $(shell pkg-config --cflags babeltrace2 2>/dev/null)
BT_PLUGIN_BTLIBS   := $(or $(shell pkg-config --libs babeltrace2 2>/dev/null),-lbabeltrace2)
BT_PLUGIN_JSCFLAGS := $(shell pkg-config --cflags jansson 2>/dev/null)
BT_PLUGIN_JSLIBS   := $(or $(shell pkg-config --libs jansson 2>/dev/null),-ljansson)

.PHONY: analysis-plugin
analysis-plugin: $(BT_PLUGIN_SO)

all: analysis-plugin

$(BT_PLUGIN_SO): $(BT_PLUGIN_SRCS) $(BT_PLUGIN_HDRS) analysis/analysis.mk
	@mkdir -p $(@D)
	@echo "  CC+LD   $@"
	@$(CC) $(STDFLAGS) $(WFLAGS) $(BT_PLUGIN_CFLAGS) $(BT_PLUGIN_BTCFLAGS) \
		$(BT_PLUGIN_JSCFLAGS) -shared -Wl,-z,defs -o $@ $(BT_PLUGIN_SRCS) \
		$(BT_PLUGIN_BTLIBS) $(BT_PLUGIN_JSLIBS) -lm

endif
