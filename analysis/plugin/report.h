/*
 * report.h — sink.magslab.report: the data model every file of the sink shares (one
 * struct report per component: its parameters, the caches, arenas, processes and event
 * classes seen, the bucket in progress, the temporary files) and each file's entry points.
 *
 * The sink reads the messages of one input port (normally a filter.utils.muxer in front of
 * source.ctf.fs or source.ctf.lttng-live), aggregates the magslab:* events per cache and
 * per time bucket, and at the end of the stream writes the report directory
 * (docs/report.md): summary files, time-series data, the gnuplot scripts that draw them,
 * index.html, and last manifest.json, which names every file and script of the report.
 *
 * Memory is bounded by the number of caches, arenas and event classes, never by the number
 * of events: per-bucket rows and the few per-event series (magsize bumps, pcc adoptions,
 * hash resizes, phases, discarded windows) go to unlinked temporary files as the stream
 * goes by, and are read back once the stream has ended.
 *
 * Live snapshots (parameter snapshot-ms, for `magslab live`): while the stream goes on,
 * every snapshot-ms of wall-clock time (checked in each consume call, so also when a live
 * source has nothing to say), the sink writes the report so far: every output but
 * index.html, from the buckets completed so far, each file written whole then renamed into
 * place, plus two terminal-less plot scripts (live-magsize.gpi, live-contention.gpi), then
 * the stamp snapshot.seq LAST.  A snapshot reads the temporary files from their start and
 * leaves them positioned at their end again, and it changes nothing else: the final report
 * is the same with or without snapshots.  With the parameter live-page, index.html is the
 * viewer's page meanwhile (html.c), rewritten at each snapshot.
 *
 * Files, and who calls whom (calls only go down this list; base.c calls nothing here):
 *
 *   plugin.c    the plugin and component class descriptors
 *   report.c    the component: init, the message loop, snapshots' timing, errors at the end
 *   params.c    the parameters                                      (report.c)
 *   events.c    per-event aggregation, time buckets, discarded events (report.c)
 *   classes.c   event classes, traces, processes, the id maps       (events.c, report.c)
 *   sanity.c    values that cannot be: damage findings               (events.c)
 *   output.c    the report directory: what is plotted, titles, the order of the files,
 *               snapshots; the writers below sit behind output.h     (report.c)
 *     dat.c       buckets.csv and the *.dat time series
 *     gp.c        common.gpi, the *.gp plot scripts, the live-*.gpi scripts
 *     json.c      summary.json (jansson) and manifest.json
 *     chrome.c    trace.json: Chrome trace-event JSON (jansson)
 *     summary.c   summary.txt, and the lines and cache table it shares with index.html
 *     html.c      index.html: the report page and the live page
 *     hosts.c     hosts.txt and hosts.json, and the host section and line of index.html
 *   base.c      the leaf: name tables, allocation and error/warning/damage helpers, the
 *               wait-time percentile (used by every file above)
 *
 * Error rule: a function that fails appends an error cause (report_error) and returns -1;
 * the component then fails the graph.  Out of memory aborts (ms_xrealloc, ms_strdup).
 * Single-threaded (babeltrace2 calls a component from one thread); no locks.
 */
#ifndef MAGSLAB_REPORT_H
#define MAGSLAB_REPORT_H

#include <babeltrace2/babeltrace.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Event kinds: the magslab events of docs/events.md, in the order of the
 * descriptor table in events.c. */
enum ms_kind {
	K_CACHE_CREATE,
	K_CACHE_DESTROY,
	K_MAG_SWAP,
	K_DEPOT_GET,			/* older traces: an exchange was get + put */
	K_DEPOT_PUT,
	K_DEPOT_EXCHANGE,
	K_DEPOT_MISS,
	K_DEPOT_CONTENTION,
	K_MAGSIZE_BUMP,
	K_PCC_MAGSIZE,
	K_HASH_RESIZE,
	K_SLAB_GROW,
	K_SLAB_RELEASE,
	K_REAP,
	K_PCC_CONTENTION,
	K_PCC_COUNTERS,
	K_ARENA_CREATE,
	K_ARENA_DESTROY,
	K_ARENA_IMPORT,
	K_ARENA_RELEASE,
	K_ARENA_FAIL,
	K_WORKLOAD_PHASE,
	K_ALLOC,
	K_FREE,
	K_NKNOWN,
	K_OTHER_MAGSLAB = K_NKNOWN,	/* magslab:<something not above> */
	K_FOREIGN,			/* not a magslab event */
	K_UNUSABLE,			/* a magslab event lacking a field we need */
};

#define MS_MAX_FIELDS 11

/* The enumerations of docs/events.md. */
enum { SIDE_ALLOC = 0, SIDE_FREE = 1 };
enum { OUTCOME_TO_SLAB = 0, OUTCOME_NEW_MAGAZINE = 1, OUTCOME_NO_MAGAZINE = 2, NR_OUTCOMES };
enum { NR_REASONS = 6, NR_POLICIES = 4, NR_LAYERS = 3 };
/* cache_create's pcc_mode (docs/events.md); PCC_MODE_UNKNOWN: a trace from
 * before the field existed. */
enum { NR_PCC_MODES = 3, PCC_MODE_UNKNOWN = NR_PCC_MODES };
enum { HASH_KIND_CACHE = 0, HASH_KIND_ARENA = 1 };

/*
 * Wait-time histogram: log2 buckets with 4 sub-buckets per power of two.
 * Values 0..7 ns are exact; above, a bucket spans 1/4 of its octave, so a
 * percentile read from it (its upper edge, clamped to the maximum seen) is
 * at most 25 % (2^(1/4) on average ≈ 19 %) above the true value.
 */
#define MS_HIST_N 252

static inline unsigned int ms_hist_index(uint64_t v)
{
	unsigned int e;

	if (v < 8)
		return (unsigned int)v;
	e = 63u - (unsigned int)__builtin_clzll(v);	/* e >= 3 */
	return 8u + (e - 3u) * 4u + (unsigned int)((v >> (e - 2u)) & 3u);
}

/* The largest value that falls in bucket i. */
static inline uint64_t ms_hist_upper(unsigned int i)
{
	unsigned int e, sub;

	if (i < 8)
		return i;
	e = (i - 8u) / 4u + 3u;
	sub = (i - 8u) % 4u;
	if (e == 63 && sub == 3)
		return UINT64_MAX;
	return (((uint64_t)(4u + sub + 1u)) << (e - 2u)) - 1u;
}

/* Bitmaps of small values per cache (sanity.c): rounds and magsizes below this. */
#define MS_SET_BITS 1024

/*
 * What the pcc counters of the slow-path events (depot_exchange, depot_miss, pcc_counters:
 * docs/events.md) say of one bucket: the allocations and frees the slots reported in it
 * (each slot's growth since its previous event), of which `depot` went through a depot
 * exchange and `slab` to or from the slab layer; the rest were pcc hits.
 */
struct counter_acc {
	uint64_t delta[2];		/* allocs, frees reported */
	uint64_t hits;
	uint64_t depot[2], slab[2];	/* alloc/free-side exchanges, misses to/from slabs */
};

/* Accumulators of one cache for the time bucket in progress. */
struct bucket_acc {
	uint64_t contended, counted, wait_sum, wait_max;
	uint64_t pcc_contended;
	uint64_t gets[2], puts[2], misses[2], rounds_got[2];
	uint64_t swaps[2];
	uint64_t nne_max, ne_max;	/* depot occupancy peaks in the bucket */
	uint64_t allocs[NR_LAYERS], frees[NR_LAYERS];
	struct counter_acc cnt;
	uint64_t bumps;
	bool depot_seen;
	uint64_t hist[MS_HIST_N];	/* wait_ns of this bucket's contentions */
};

/* One row of the per-bucket temporary file (one cache, one bucket). */
struct bucket_row {
	uint64_t bucket;
	uint32_t cache;			/* index in report.caches */
	uint32_t depot_seen;		/* nne/ne columns are valid */
	uint64_t contended, counted, wait_sum, wait_max, wait_p50, wait_p99;
	uint64_t pcc_contended;
	uint64_t gets[2], puts[2], misses[2], rounds_got[2];
	uint64_t swaps[2];
	uint64_t nne_last, ne_last, nne_max, ne_max;
	uint64_t allocs[NR_LAYERS], frees[NR_LAYERS];	/* from alloc/free events */
	uint64_t cnt_allocs[NR_LAYERS], cnt_frees[NR_LAYERS], cnt_hits;	/* from counters */
	uint64_t bumps;
	uint64_t magsize;		/* depot magsize at the end of the bucket */
};

/* One row of the per-slot temporary file: a slot's depot exchanges in one bucket, summed
 * over the caches with magazines (the per-slot view, slots.dat). */
struct slot_row {
	uint64_t bucket;
	uint32_t slot, pad;
	uint64_t exchanges[2];		/* alloc side, free side */
};

/* The per-slot view keeps slots below this (a higher slot is counted in slots_over). */
#define MS_MAX_SLOTS 4096

/* A pcc slot's last counters (docs/events.md: depot_exchange, depot_miss, pcc_counters). */
struct slot_state {
	uint64_t allocs, frees, hits;
	bool seen;
	bool final;			/* its last event was a pcc_counters */
};

/* Per-event series records (temporary file). */
enum { ER_BUMP, ER_PCC_MAGSIZE, ER_HASH };
struct event_rec {
	uint32_t type;
	uint32_t idx;			/* cache index; for ER_HASH see v[5] */
	uint64_t t;			/* ns since the trace start */
	uint64_t v[6];
};
/* ER_BUMP: old, new, reason, busy_count
 * ER_PCC_MAGSIZE: cpu, old, new
 * ER_HASH: old_lists, new_lists, items, duration_ns, ok, kind (idx: a cache
 *          index for kind cache, an arena index for kind arena) */

/* A depot_contention event of a cache, for trace.json's slices (its own temporary file:
 * there can be many, and only the final report reads them). */
struct cont_rec {
	uint32_t cache;			/* index in report.caches */
	uint32_t cpu;
	uint64_t t;			/* ns since the trace start: the lock was taken */
	uint64_t wait_ns;
};

/* Hash-table statistics (a cache's bufctl hash or an arena's segment hash). */
struct hash_stats {
	uint64_t resizes, failed, lists, first_lists, items_max, dur_sum, dur_max;
};

/* A process as seen in the trace: its trace class ("domain") and vpid. */
struct proc {
	uint32_t domain;
	int64_t vpid;		/* -1: unknown */
};

struct cache {
	uint32_t index;		/* in report.caches */
	uint32_t proc, id;
	char *name;		/* malloc'd; "cache#ID" until a cache_create is seen */
	bool created, destroyed, superseded;
	uint64_t obj_size, threshold, timeout_ns;
	uint32_t nr_pcc, magsize0, policy, source, pcc_mode;
	bool uses_bufctl;
	uint64_t t_create, t_first, t_last;	/* ns since the trace start */

	/* Totals.  Those that a bucket also counts are added up from the buckets as they
	 * are flushed (events.c: merge_totals); complete once the stream has ended. */
	uint64_t n[K_NKNOWN];			/* events by kind */
	uint64_t swaps[2], gets[2], puts[2], misses[2], rounds_got[2];
	uint64_t miss_outcome[NR_OUTCOMES];
	bool magsize_known;
	uint32_t magsize, magsize_max, magsize_min;
	uint64_t bumps_up, bumps_down, bump_reason[NR_REASONS + 1];
	uint32_t pcc_magsize_min, pcc_magsize_max;
	uint64_t contended, counted, wait_sum, wait_max;
	uint64_t pcc_contended, pcc_wait_sum, pcc_wait_max;
	struct hash_stats hash;
	bool depot_known;
	uint64_t nne, ne, nne_max, ne_max;
	uint64_t slab_grows, slab_releases, bytes_grown, bytes_released;
	uint64_t reaps, reap_slabs, reap_mags, reap_bytes;
	uint64_t allocs[NR_LAYERS], frees[NR_LAYERS];
	/* the pcc counters: the sums of the buckets' counter_acc, and each slot's last values */
	struct counter_acc cnt;
	struct slot_state *slots;
	uint32_t nr_slots;
	bool has_counters;		/* a slow-path event with the counters was seen */
	bool counters_back;		/* a slot's counters went back (two processes, one id?) */

	/* sanity.c: the magsizes the cache had, the rounds of full magazines seen (bitmaps
	 * of values below MS_SET_BITS), the depot's peak occupancy, and for kmem_magazine
	 * the objects of its slabs (slab_grow) */
	uint64_t magsizes[MS_SET_BITS / 64], full_rounds[MS_SET_BITS / 64];
	uint64_t full_rounds_max, magsize_seen_max;
	uint64_t mags_peak, mag_objects;

	uint64_t hist[MS_HIST_N];	/* all wait_ns of depot contentions */
	struct bucket_acc acc;		/* the bucket in progress */
	bool dirty;			/* acc has something */
	bool plotted;			/* chosen for the plots (output.c) */
	int plot_slot;			/* 0..max-caches-1 when plotted */
};

struct arena {
	uint32_t index;		/* in report.arenas */
	uint32_t proc, id;
	char *name;
	bool created, destroyed;
	uint64_t quantum, qcache_max;
	uint32_t source;
	uint64_t imports, releases, fails, bytes_imported, bytes_released;
	struct hash_stats hash;
	bool plotted;
	int plot_slot;
};

/* What we know of an event class, resolved once (events.c). */
struct evclass {
	const bt_event_class *cls;
	int kind;
	uint32_t domain;
	bool has_clock;
	bool clock_ns;				/* 1 GHz clock: ns = clock_base + value */
	int64_t clock_base;			/* the clock's offset in ns */
	uint32_t proc;				/* without a vpid context: the process */
	int vpid_idx;				/* member of the common context, or -1 */
	bool vpid_signed;
	int64_t env_vpid;			/* the trace environment's vpid, or -1 */
	int idx[MS_MAX_FIELDS];			/* payload member indices */
	uint16_t is_signed;			/* bit f: field f is a signed integer */
	uint16_t is_string;
	uint16_t is_bool;
	uint8_t nfields;			/* payload members the kind reads */
	char *name;				/* event class name (counting by name) */
	uint64_t count;
	struct cache *memo_cache;		/* the cache of the previous event */
	uint64_t memo_key, memo_gen;
};

/* A trace seen in a stream-beginning message. */
struct trace_info {
	const bt_trace *trace;
	uint32_t domain;
	char *name, *hostname, *procname, *domain_name, *tracer;
	int64_t vpid;		/* from the environment, or -1 */
};

/* A phase marker kept in memory (at most MS_PHASES_KEPT). */
struct phase {
	uint64_t t;
	uint32_t index;
	char *name;
};

#define MS_PHASES_KEPT 1000
#define MS_WINDOWS_JSON 10000

/* Open-addressing table from a 64-bit key to an index (+1; 0 = empty). */
struct idmap {
	uint64_t *keys;
	uint32_t *vals;
	uint32_t cap, used;
};

/*
 * Parameter `hosts` (`magslab report` of traces of several hosts, merged report): one row
 * per host, for the Hosts section of index.html, hosts.txt and hosts.json (hosts.c); the
 * merged row, "(all hosts)", is this report's own counts.  The counts are named as in
 * hosts.txt (ms_host_count_names).
 */
#define MS_HOST_COUNTS 6
struct host_list {
	char **v;
	uint32_t n;
};

struct host_row {
	char *host;			/* the host's name, "unknown" when the traces have none */
	char *hostname;			/* the traces' hostname; NULL: none */
	char *dir;			/* its directory: hosts/DIR */
	char *error;			/* why it has no report (hosts/DIR/index.html); NULL: it has */
	uint64_t traces;
	int64_t counts[MS_HOST_COUNTS];	/* -1: unknown */
	struct host_list inputs;	/* its trace directories (or live URLs) */
};

struct report {
	bt_self_component *self_comp;
	bt_logging_level log_level;
	bt_message_iterator *iter;

	/* parameters (params.c) */
	char *out_dir;
	char *title;
	char *program;			/* `program`: what ran (magslab run/live --preload) */
	uint64_t bucket_ns;
	uint32_t max_caches;
	struct host_row *hosts;		/* `hosts`: the other hosts' rows */
	uint32_t nr_hosts;
	uint64_t hosts_traces;		/* `hosts`: the merged report's trace count */
	struct host_list hosts_inputs;	/* `hosts`: the merged report's inputs */
	char *host_name;		/* `host`: this report is of one host, of host_of */
	uint64_t host_traces, host_of;
	char *live_title;		/* `live-page`: the viewer's page until the report */
	uint64_t live_refresh_s;

	/* event classes: a map by class pointer, a small direct-mapped cache in front */
	struct {
		const bt_event_class *cls;
		struct evclass *ec;
	} ec_cache[16];
	struct evclass **ecs;
	uint32_t nr_ecs, cap_ecs;
	struct idmap ec_map;

	/* trace classes (domains) and traces */
	const bt_trace_class **domains;
	uint32_t nr_domains;
	struct trace_info *traces;
	uint32_t nr_traces;

	struct proc *procs;
	uint32_t nr_procs;
	uint32_t last_proc_domain;
	int64_t last_proc_vpid;
	uint32_t last_proc;

	struct cache **caches;
	uint32_t nr_caches, cap_caches;
	struct idmap cache_map;		/* (proc << 32 | id) -> cache index + 1 */
	uint64_t cache_gen;		/* bumped when a key gets another cache */
	struct arena **arenas;
	uint32_t nr_arenas, cap_arenas;
	struct idmap arena_map;

	/* time */
	bool have_t0;
	bool clock_unix_epoch;		/* the first clock's origin is the Unix epoch */
	uint64_t t0, t_last;		/* ns from the clock's origin */
	uint64_t cur_bucket, bucket_end;	/* bucket_end: ns since t0 */
	uint32_t *dirty;		/* indices of caches with a dirty acc */
	uint32_t nr_dirty, cap_dirty;

	/* counts */
	uint64_t events, magslab_events, kind_events[K_UNUSABLE + 1];
	bool any_alloc_events;
	bool any_counters;		/* some event carried the pcc counters */

	/* the per-slot view: the bucket in progress (exchanges per slot and side) */
	uint64_t (*slot_acc)[2];
	uint32_t nr_slot_acc;		/* slots with room in slot_acc */
	uint32_t max_slot_seen;		/* 1 + the highest slot with an exchange */
	bool slot_dirty;
	uint64_t slots_over;		/* exchanges of slots >= MS_MAX_SLOTS */

	/* discarded events and packets */
	uint64_t disc_events, disc_packets;	/* sums of the known counts */
	uint64_t disc_event_msgs, disc_packet_msgs;
	uint64_t disc_unknown_count;		/* messages without a count */
	uint64_t disc_no_window;		/* messages without times */
	bool win_open;
	uint64_t win_b, win_e;			/* the window being merged (abs ns) */
	uint64_t nr_windows;
	uint64_t disc_first, disc_last;		/* abs ns, over all windows */

	/* phases */
	struct phase *phases;
	uint32_t nr_phases_kept;
	uint64_t nr_phases;

	/* temporary files */
	FILE *rows_f;		/* struct bucket_row */
	FILE *ev_f;		/* struct event_rec */
	FILE *phase_f;		/* t, index, len, name bytes */
	FILE *win_f;		/* pairs of uint64_t abs ns */
	FILE *slots_f;		/* struct slot_row */
	FILE *cont_f;		/* struct cont_rec */

	/* warnings for summary.json (bounded; base.c) */
	char *warnings[32];
	uint32_t nr_warnings;

	/* why the trace is damaged (sanity.c; parameter `damage`): the first 32, and how many */
	char *damage[32];
	uint32_t nr_damage;
	uint64_t damage_total;

	bool failed;		/* the stream failed: leave no outputs */
	bool written;
	bool live_page;		/* index.html is the live page (remove it if no report) */

	/* live snapshots (parameter snapshot-ms; output.c: output_snapshot) */
	uint64_t snapshot_ns;		/* wall-clock period; 0: no snapshots */
	uint64_t next_snapshot;		/* CLOCK_MONOTONIC ns of the next one due */
	uint64_t snapshots;		/* written so far (the stamp's counter) */
	uint64_t events_at_snapshot;	/* r->events when the last one was written */
};

/* base.c: the leaf */
extern const char *const ms_kind_names[K_NKNOWN];
extern const char *const ms_reason_names[NR_REASONS];
extern const char *const ms_policy_names[NR_POLICIES];
extern const char *const ms_layer_names[NR_LAYERS];
extern const char *const ms_pcc_mode_names[NR_PCC_MODES + 1];
extern const char *const ms_outcome_names[NR_OUTCOMES];
extern const char *const ms_host_count_names[MS_HOST_COUNTS];
char *ms_strdup(const char *s);
void *ms_xrealloc(void *p, size_t n);
char *ms_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void report_error(struct report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void report_warn(struct report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void report_damage(struct report *r, const char *fmt, ...)	/* for summary.json `damage` */
	__attribute__((format(printf, 2, 3)));
void report_messages_free(struct report *r);		/* the warnings and damage */
uint64_t ms_hist_percentile(const uint64_t *hist, uint64_t total, uint64_t max,
			    unsigned int pct);
uint64_t ms_monotonic_ns(void);

/* report.c: the component's methods (plugin.c names them in the class descriptor) */
bt_component_class_initialize_method_status report_init(
	bt_self_component_sink *self, bt_self_component_sink_configuration *config,
	const bt_value *params, void *init_data);
bt_component_class_sink_graph_is_configured_method_status report_graph_is_configured(
	bt_self_component_sink *self);
bt_component_class_sink_consume_method_status report_consume(bt_self_component_sink *self);
void report_finalize(bt_self_component_sink *self);

/* params.c */
int params_parse(struct report *r, const bt_value *params);
void params_free(struct report *r);

/* classes.c */
struct evclass *classes_lookup(struct report *r, const bt_event_class *cls);
int classes_stream_beginning(struct report *r, const bt_message *msg);
uint32_t classes_proc(struct report *r, uint32_t domain, int64_t vpid);
void classes_free(struct report *r);
uint32_t idmap_get(const struct idmap *m, uint64_t key);
int idmap_put(struct idmap *m, uint64_t key, uint32_t val);
void idmap_free(struct idmap *m);

/* events.c */
int events_handle(struct report *r, const bt_message *msg);
int events_discarded(struct report *r, const bt_message *msg, bool packets);
int events_end(struct report *r);
void events_free(struct report *r);

/* counters.c: the pcc counters of the slow-path events (v: allocs, frees, hits), their
 * layers; the per-slot view */
void counters_event(struct report *r, struct cache *c, uint64_t slot, const uint64_t v[3],
		    bool final);
void counters_layer(struct cache *c, int side, bool slab);	/* an exchange or a miss */
void counters_layers(const struct counter_acc *a, uint64_t allocs[NR_LAYERS],
		     uint64_t frees[NR_LAYERS]);
void counters_merge(struct counter_acc *total, const struct counter_acc *a);
bool counters_complete(const struct cache *c);	/* every slot's last event: pcc_counters */
uint32_t counters_slots(const struct cache *c);	/* slots with counters */
void slots_exchange(struct report *r, const struct cache *c, uint64_t slot, int side);
int slots_flush(struct report *r);

/* sanity.c */
void sanity_cache_event(struct report *r, struct cache *c, int kind, const uint64_t *v,
			uint64_t t);
void sanity_cache_create(struct report *r, struct cache *c);
void sanity_arena_create(struct report *r, const struct arena *a);
void sanity_hash(struct report *r, uint64_t kind, uint64_t ok, uint32_t id);
void sanity_end(struct report *r);

/* output.c */
int output_write(struct report *r);
int output_snapshot(struct report *r);
int output_live_page(struct report *r);		/* parameter live-page, at init */
void output_remove(struct report *r);
void output_remove_live_page(struct report *r);	/* no report came: not left waiting */

#endif
