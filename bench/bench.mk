# bench/bench.mk — benchmarks, included at the end of the top-level Makefile
# (it uses $(BUILD), $(CC), $(STDFLAGS), $(WFLAGS), $(STATIC_LIB), $(TRACE_LDLIBS) and
# $(LIB_HDRS) from there).
#
#   make bench                       build every benchmark (not run them)
#   make $(BUILD)/bin/bench-arena    one of them
#
# Every bench/NAME.c is one standalone program, $(BUILD)/bin/bench-NAME,
# built with -O2 against the static library and the public headers only.
# Running them is up to you (they take minutes): see bench/README.md.

BENCH_CFLAGS ?= -O2 -g
BENCH_SRCS   := $(sort $(wildcard bench/*.c))
BENCH_BINS   := $(patsubst bench/%.c,$(BUILD)/bin/bench-%,$(BENCH_SRCS))

.PHONY: bench
bench: $(BENCH_BINS)

$(BUILD)/bin/bench-%: bench/%.c bench/median.h bench/rng.h bench/handoff.h bench/alloc_opts.h $(STATIC_LIB) $(LIB_HDRS)
	@mkdir -p $(@D)
	@echo "  CC+LD   $@"
	@$(CC) $(filter-out -fPIC,$(STDFLAGS)) $(WFLAGS) $(BENCH_CFLAGS) \
		-Ilib/include -o $@ $< $(STATIC_LIB) $(TRACE_LDLIBS) -pthread -lm
