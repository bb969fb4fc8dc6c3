# analysis/frontend.mk — the front end build/bin/magslab (analysis/magslab.c, report.c,
# graph.c), included at the end of the top-level Makefile (it uses $(BUILD), $(CC),
# $(STDFLAGS), $(WFLAGS) and $(PREFIX) from there).
#
#   make frontend            build/bin/magslab
#   build/bin/magslab --help
#
# It links libbabeltrace2 only (pkg-config babeltrace2; scripts/deps.sh installs
# libbabeltrace2-dev), not libmagslab: it reads traces, whatever TRACE mode built the
# library.  At run time it loads the magslab babeltrace2 plugin from
# ../lib/babeltrace2/plugins beside itself (build/lib/babeltrace2/plugins), or
# $MAGSLAB_PLUGIN_PATH, or MAGSLAB_PLUGINDIR below (where an install puts it).
#
# Guarded, so that `make -f Makefile -f analysis/frontend.mk` also works when the Makefile
# includes this file already.

ifndef MAGSLAB_FRONTEND_MK
MAGSLAB_FRONTEND_MK := 1

FE_CFLAGS ?= -O2 -g
FE_SRCS   := analysis/magslab.c analysis/report.c analysis/graph.c
FE_HDRS   := analysis/report.h analysis/graph.h
FE_BIN    := $(BUILD)/bin/magslab
FE_BT_CFLAGS := $(shell pkg-config --cflags babeltrace2 2>/dev/null)
FE_BT_LIBS   := $(or $(shell pkg-config --libs babeltrace2 2>/dev/null),-lbabeltrace2)
FE_PLUGINDIR  = $(abspath $(PREFIX))/lib/babeltrace2/plugins

.PHONY: frontend
frontend: $(FE_BIN)
all: frontend

$(FE_BIN): $(FE_SRCS) $(FE_HDRS) analysis/frontend.mk
	@mkdir -p $(@D)
	@echo "  CC+LD   $@"
	@$(CC) $(filter-out -fPIC,$(STDFLAGS)) $(WFLAGS) $(FE_CFLAGS) $(FE_BT_CFLAGS) \
		-DMAGSLAB_PLUGINDIR='"$(FE_PLUGINDIR)"' -o $@ $(FE_SRCS) $(FE_BT_LIBS)

endif
