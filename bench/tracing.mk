# bench/tracing.mk — the tracing-overhead benchmark, included at the end of
# the top-level Makefile after bench/bench.mk (it uses $(BUILD), $(CC),
# $(STDFLAGS), $(WFLAGS), $(STATIC_LIB), $(LIB_HDRS), $(LIB_LDLIBS) and
# $(TRACE) from there):
#
#   -include bench/tracing.mk
#
#   make $(BUILD)/bin/bench-tracing                  against this build's library
#   make TRACE=0 BUILD=build/t0 build/t0/bin/bench-tracing   a TRACE=0 one
#
# bench/run-tracing.sh builds a TRACE=0 and a TRACE=1 one, each in its own
# build directory (build/bench-tracing/trace0, .../trace1).
#
# bench/bench.mk's pattern rule would build bench-tracing too; this explicit
# rule wins over it, to tell the program its TRACE mode.  The static
# library goes in whole (--whole-archive) so that the tracepoint provider's
# object, which nothing may reference, is linked and registers its probes.
# The binary knows which TRACE mode its library was built with
# (bench-tracing --help says).

BENCH_TRACING_MODE   := $(if $(strip $(TRACE)),$(strip $(TRACE)),1)
# What the library needs at link time: -pthread, and -llttng-ust -ldl unless
# TRACE=0 (the Makefile's $(LIB_LDLIBS) says which).
BENCH_TRACING_LDLIBS := $(LIB_LDLIBS)

$(BUILD)/bin/bench-tracing: bench/tracing.c bench/median.h $(STATIC_LIB) $(LIB_HDRS) bench/tracing.mk
	@mkdir -p $(@D)
	@echo "  CC+LD   $@ (TRACE=$(BENCH_TRACING_MODE))"
	@$(CC) $(filter-out -fPIC,$(STDFLAGS)) $(WFLAGS) $(or $(BENCH_CFLAGS),-O2 -g) \
		-DBENCH_TRACE_MODE='"$(BENCH_TRACING_MODE)"' -Ilib/include -o $@ $< \
		-Wl,--whole-archive $(STATIC_LIB) -Wl,--no-whole-archive \
		$(BENCH_TRACING_LDLIBS) -pthread -lm

# bench-event_cost (bench/event/event_cost.c, run by bench/run-event-cost.sh): one recorded
# magslab:depot_exchange against a bare event of the same payload (bench/event/bare_tp.c,
# its own provider).  Like bench-tracing: the static library in whole, so that libmagslab's
# provider registers its probes; the magslab callsite is the library's (magslab_tp.h).
$(BUILD)/bin/bench-event_cost: bench/event/event_cost.c bench/event/bare_tp.c bench/event/bare_tp.h \
		$(STATIC_LIB) $(LIB_HDRS) bench/tracing.mk
	@mkdir -p $(@D)
	@echo "  CC+LD   $@"
	@$(CC) $(filter-out -fPIC,$(STDFLAGS)) $(WFLAGS) $(or $(BENCH_CFLAGS),-O2 -g) \
		-Ilib/include -Itracepoints -Ibench -Ibench/event -o $@ bench/event/event_cost.c \
		bench/event/bare_tp.c -Wl,--whole-archive $(STATIC_LIB) -Wl,--no-whole-archive \
		$(BENCH_TRACING_LDLIBS) -pthread -lm
