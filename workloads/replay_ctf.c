/*
 * workloads/replay_ctf.c — reading a CTF trace recorded with LTTng's libc wrapper
 * (LD_PRELOAD=liblttng-ust-libc-wrapper.so: events lttng_ust_libc:malloc, calloc,
 * realloc, free, memalign, posix_memalign) into the operation list (replay.h).
 *
 * Reading: through the trace-reading library (tracelib/graph.h), as `magslab report`
 * reads its traces: mg_discover_with() finds the trace directories under FILE (checking
 * each metadata file's framing and each stream against its index first), the graph is
 * source.ctf.fs -> filter.utils.muxer (time order) -> the progress filter -> a simple sink
 * whose consume function (ctf_consume) is this file's, stepped with mg_graph_step() under
 * the stall watchdog.
 *
 * Events to operations: the thread is the `vtid` context (one thread "all" without it);
 * a free is paired with its allocation by (vpid, pointer) (vpid 0 without the context); a
 * pointer's state is never seen, live (an object), freed, or ignored (an allocation above
 * RP_MAX_SIZE, counted in input.ignored_huge).  A trace starts in the middle of a program,
 * so a free of a pointer never seen is skipped and counted (trace.unpaired_frees); a free
 * of a freed pointer is an error (exit 2) unless events were lost before it or
 * --ignore-unpaired is given; an allocation of a live pointer orphans the old object.
 *
 * Owns, for the length of rp_read_ctf(): the plugins, the inputs, the graph and the two
 * pointer/thread maps.  One thread (the graph runs in the caller's).
 */
#include "replay.h"
#include "graph.h"
#include "watchdog.h"

#include <babeltrace2/babeltrace.h>

#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct rp_ctf {
	struct rp *r;
	struct rp_kmap ptrs;    /* (vpid, pointer) -> object state */
	struct rp_kmap tids;    /* (vtid, 0) -> thread index + 1 */
	int status;             /* exit status of a failure in the sink */
};

/* ---- events to operations -------------------------------------------------- */

enum { EV_MALLOC, EV_CALLOC, EV_REALLOC, EV_FREE, EV_MEMALIGN, EV_POSIX_MEMALIGN,
       EV_OTHER };

/* The events replayed, and the integer payload fields each must have, in that order. */
static const struct {
	const char *name;
	const char *fields[5];
} libc_events[EV_OTHER] = {
	[EV_MALLOC] = { "lttng_ust_libc:malloc", { "size", "ptr" } },
	[EV_CALLOC] = { "lttng_ust_libc:calloc", { "nmemb", "size", "ptr" } },
	[EV_REALLOC] = { "lttng_ust_libc:realloc", { "in_ptr", "size", "ptr" } },
	[EV_FREE] = { "lttng_ust_libc:free", { "ptr" } },
	[EV_MEMALIGN] = { "lttng_ust_libc:memalign", { "alignment", "size", "ptr" } },
	[EV_POSIX_MEMALIGN] = { "lttng_ust_libc:posix_memalign",
				{ "out_ptr", "alignment", "size", "result" } },
};

/* One call of the traced program, from its event's payload. */
struct libc_call {
	int kind;
	uint64_t size, nmemb, ptr, in_ptr, alignment, result;
};

static int ev_kind(const char *name)
{
	for (int i = 0; name && i < EV_OTHER; i++)
		if (strcmp(name, libc_events[i].name) == 0)
			return i;
	return EV_OTHER;
}

/* Where the payload field named name goes in k (posix_memalign's out_ptr is the ptr). */
static uint64_t *call_field(struct libc_call *k, const char *name)
{
	if (strcmp(name, "size") == 0)
		return &k->size;
	if (strcmp(name, "nmemb") == 0)
		return &k->nmemb;
	if (strcmp(name, "in_ptr") == 0)
		return &k->in_ptr;
	if (strcmp(name, "alignment") == 0)
		return &k->alignment;
	if (strcmp(name, "result") == 0)
		return &k->result;
	return &k->ptr;
}

/* A named integer member of a structure field. */
static bool field_u64(const bt_field *s, const char *name, uint64_t *out)
{
	const bt_field *f;
	bt_field_class_type t;

	if (!s || bt_field_get_class_type(s) != BT_FIELD_CLASS_TYPE_STRUCTURE)
		return false;
	f = bt_field_structure_borrow_member_field_by_name_const(s, name);
	if (!f)
		return false;
	t = bt_field_get_class_type(f);
	if (bt_field_class_type_is(t, BT_FIELD_CLASS_TYPE_UNSIGNED_INTEGER))
		*out = bt_field_integer_unsigned_get_value(f);
	else if (bt_field_class_type_is(t, BT_FIELD_CLASS_TYPE_SIGNED_INTEGER))
		*out = (uint64_t)bt_field_integer_signed_get_value(f);
	else
		return false;
	return true;
}

/* The sink's error, reported once ("FILE: event N: ..."); sets the exit status. */
static int ctf_fail(struct rp_ctf *c, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int ctf_fail(struct rp_ctf *c, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	wl_error(c->r->o, "%s: event %" PRIu64 ": %s", c->r->file, c->r->records, msg);
	c->status = status;
	return -1;
}

/* An rp_err of the list as the sink's failure (0 for RP_OK). */
static int ctf_rc(struct rp_ctf *c, int rc)
{
	if (rc == RP_NOMEM)
		return ctf_fail(c, RP_EXIT_FAIL, "out of memory");
	if (rc == RP_LIMIT)
		return ctf_fail(c, RP_EXIT_FAIL, "too many objects");
	return 0;
}

/* A new object at (pid, ptr) in thread thr. */
static int ctf_alloc(struct rp_ctf *c, uint32_t thr, uint64_t pid, uint64_t ptr,
		     uint64_t size, bool zero)
{
	struct rp *r = c->r;
	uint64_t *st = rp_kmap_get(&c->ptrs, pid, ptr);

	if (!st)
		return ctf_rc(c, RP_NOMEM);
	if (*st >= ST_LIVE0 || *st == ST_IGNORED) {
		/* Its free was not traced (or was discarded): keep the old
		 * object until the end of the replay. */
		r->orphaned++;
		*st = ST_UNSEEN;
	}
	if (size > RP_MAX_SIZE) {
		r->ignored++;
		*st = ST_IGNORED;
		return 0;
	}
	return ctf_rc(c, rp_do_alloc(r, thr, st, size, zero));
}

/* A free of a pointer already freed: skipped after lost events, else an error. */
static int ctf_double_free(struct rp_ctf *c, uint64_t pid, uint64_t ptr, const char *what)
{
	struct rp *r = c->r;
	bool lost = r->discarded_events || r->discarded_unknown || r->discarded_packets;
	char proc[40] = "";

	/* After lost events that is expected (the malloc that returned the pointer
	 * again was lost): skip and count it.  Otherwise the trace is wrong, or the
	 * program is. */
	if (r->ignore_unpaired || lost) {
		r->double_frees++;
		return 0;
	}
	if (r->has_vpid)
		snprintf(proc, sizeof(proc), " (process %" PRIu64 ")", pid);
	return ctf_fail(c, RP_EXIT_USAGE, "double free: %s of pointer 0x%" PRIx64 "%s, "
			"already freed (--ignore-unpaired skips it)", what, ptr, proc);
}

/* Frees (pid, ptr), or counts why it cannot. */
static int ctf_free(struct rp_ctf *c, uint32_t thr, uint64_t pid, uint64_t ptr,
		    const char *what)
{
	struct rp *r = c->r;
	uint64_t *st = rp_kmap_get(&c->ptrs, pid, ptr);

	if (!st)
		return ctf_rc(c, RP_NOMEM);
	if (*st >= ST_LIVE0)
		return ctf_rc(c, rp_do_free(r, thr, st));
	if (*st == ST_IGNORED) {
		*st = ST_DEAD;
		return 0;
	}
	if (*st == ST_UNSEEN) {
		/* Allocated before the trace started: not replayable. */
		r->unpaired++;
		*st = ST_DEAD;
		return 0;
	}
	return ctf_double_free(c, pid, ptr, what);
}

/* realloc(in_ptr, size) = ptr, in_ptr and ptr both not NULL. */
static int ctf_realloc_moved(struct rp_ctf *c, uint32_t thr, uint64_t pid,
			     const struct libc_call *k)
{
	struct rp *r = c->r;
	uint64_t *old = rp_kmap_get(&c->ptrs, pid, k->in_ptr), *nw;

	if (!old)
		return ctf_rc(c, RP_NOMEM);
	if (*old < ST_LIVE0 || k->size > RP_MAX_SIZE) {
		/* The old object is not replayed: a free it cannot do, then an allocation. */
		if (ctf_free(c, thr, pid, k->in_ptr, "realloc") != 0)
			return -1;
		return ctf_alloc(c, thr, pid, k->ptr, k->size, false);
	}
	if (k->in_ptr == k->ptr)
		return ctf_rc(c, rp_do_realloc(r, thr, old, old, k->size));
	/* Two cells: the second lookup may move the first; make sure the new one
	 * exists, then look both up. */
	if (!rp_kmap_get(&c->ptrs, pid, k->ptr))
		return ctf_rc(c, RP_NOMEM);
	old = rp_kmap_get(&c->ptrs, pid, k->in_ptr);
	nw = rp_kmap_get(&c->ptrs, pid, k->ptr);
	if (*nw >= ST_LIVE0 || *nw == ST_IGNORED) {
		r->orphaned++;
		*nw = ST_UNSEEN;
	}
	return ctf_rc(c, rp_do_realloc(r, thr, old, nw, k->size));
}

static int ctf_realloc(struct rp_ctf *c, uint32_t thr, uint64_t pid,
		       const struct libc_call *k)
{
	if (!k->in_ptr) { /* realloc(NULL, n): malloc */
		if (!k->ptr) {
			c->r->failed++;
			return 0;
		}
		return ctf_alloc(c, thr, pid, k->ptr, k->size, false);
	}
	if (!k->ptr) {
		if (k->size == 0) /* realloc(p, 0): free */
			return ctf_free(c, thr, pid, k->in_ptr, "realloc");
		c->r->failed++;   /* failed: p stays */
		return 0;
	}
	return ctf_realloc_moved(c, thr, pid, k);
}

/* The call k of thread thr in process pid, as operations (or counts). */
static int ctf_call(struct rp_ctf *c, uint32_t thr, uint64_t pid, const struct libc_call *k)
{
	struct rp *r = c->r;

	switch (k->kind) {
	case EV_FREE:
		if (!k->ptr) {
			r->free_null++;
			return 0;
		}
		return ctf_free(c, thr, pid, k->ptr, "free");
	case EV_REALLOC:
		return ctf_realloc(c, thr, pid, k);
	default:
		if (k->result != 0 || !k->ptr) {
			r->failed++;
			return 0;
		}
		if (k->kind != EV_CALLOC)
			return ctf_alloc(c, thr, pid, k->ptr, k->size, false);
		if (k->size && k->nmemb > UINT64_MAX / k->size)
			return ctf_fail(c, RP_EXIT_USAGE, "calloc(%" PRIu64 ", %" PRIu64
					") overflows", k->nmemb, k->size);
		return ctf_alloc(c, thr, pid, k->ptr, k->nmemb * k->size, true);
	}
}

/* The replay thread of the event's vtid (added when first seen). */
static int ctf_thread(struct rp_ctf *c, const bt_event *ev, uint32_t *thr)
{
	struct rp *r = c->r;
	const bt_field *ctx = bt_event_borrow_common_context_field_const(ev);
	uint64_t tid, *v;
	uint32_t idx;
	char name[32];
	int rc;

	if (field_u64(ctx, "vtid", &tid)) {
		r->has_vtid = true;
		snprintf(name, sizeof(name), "%" PRIu64, tid);
	} else {
		r->no_vtid_events++;
		tid = UINT64_MAX;
		snprintf(name, sizeof(name), "all");
	}
	v = rp_kmap_get(&c->tids, tid, 0);
	if (!v)
		return ctf_rc(c, RP_NOMEM);
	if (*v == 0) {
		rc = rp_add_thread(r, name, &idx);
		if (rc)
			return ctf_rc(c, rc);
		v = rp_kmap_get(&c->tids, tid, 0);
		*v = (uint64_t)idx + 1;
	}
	*thr = (uint32_t)(*v - 1);
	return 0;
}

/* The payload fields of k->kind's event into k. */
static int ctf_fields(struct rp_ctf *c, const bt_event *ev, const char *evname,
		      struct libc_call *k)
{
	const bt_field *pl = bt_event_borrow_payload_field_const(ev);
	const char *const *f = libc_events[k->kind].fields;

	for (; *f; f++)
		if (!field_u64(pl, *f, call_field(k, *f)))
			return ctf_fail(c, RP_EXIT_USAGE, "%s has no integer field '%s'",
					evname, *f);
	return 0;
}

static int ctf_event(struct rp_ctf *c, const bt_message *msg)
{
	struct rp *r = c->r;
	const bt_event *ev = bt_message_event_borrow_event_const(msg);
	const char *evname = bt_event_class_get_name(bt_event_borrow_class_const(ev));
	struct libc_call k = { .kind = ev_kind(evname) };
	uint64_t pid = 0;
	uint32_t thr = 0;

	r->records++;
	if (k.kind == EV_OTHER) {
		r->other_events++;
		return 0;
	}
	r->libc_events++;
	if (ctf_thread(c, ev, &thr) != 0)
		return -1;
	if (field_u64(bt_event_borrow_common_context_field_const(ev), "vpid", &pid))
		r->has_vpid = true;
	else
		r->no_vpid_events++;
	if (ctf_fields(c, ev, evname, &k) != 0)
		return -1;
	return ctf_call(c, thr, pid, &k);
}

/* One message: an event, or a discard notice (counted). */
static int ctf_message(struct rp_ctf *c, const bt_message *m)
{
	struct rp *r = c->r;
	uint64_t n;

	switch (bt_message_get_type(m)) {
	case BT_MESSAGE_TYPE_EVENT:
		if (ctf_event(c, m) != 0)
			return -1;
		if ((r->records & 0xffff) == 0)
			rp_progress(r, "events");
		return 0;
	case BT_MESSAGE_TYPE_DISCARDED_EVENTS:
		if (bt_message_discarded_events_get_count(m, &n) ==
		    BT_PROPERTY_AVAILABILITY_AVAILABLE)
			r->discarded_events += n;
		else
			r->discarded_unknown++;
		return 0;
	case BT_MESSAGE_TYPE_DISCARDED_PACKETS:
		if (bt_message_discarded_packets_get_count(m, &n) ==
		    BT_PROPERTY_AVAILABILITY_AVAILABLE)
			r->discarded_packets += n;
		else
			r->discarded_packets++;
		return 0;
	default:
		return 0;
	}
}

/* The simple sink's consume function (struct mg_sink): a batch of messages. */
static bt_graph_simple_sink_component_consume_func_status
ctf_consume(bt_message_iterator *it, void *data)
{
	struct rp_ctf *c = data;
	bt_message_array_const msgs;
	uint64_t count;
	int failed = 0;

	wd_tick();
	switch (bt_message_iterator_next(it, &msgs, &count)) {
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_OK:
		break;
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_END:
		return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_END;
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_AGAIN:
		return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_AGAIN;
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_MEMORY_ERROR:
		return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_MEMORY_ERROR;
	default:
		return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_ERROR;
	}
	for (uint64_t i = 0; i < count; i++) {
		if (!failed && ctf_message(c, msgs[i]) != 0)
			failed = 1;
		bt_message_put_ref(msgs[i]);
	}
	if (failed) {
		BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_UNKNOWN(
			"magslab-replay", "replay: bad event (reported)");
		return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_ERROR;
	}
	return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_OK;
}

/* ---- reading the trace ----------------------------------------------------- */

/* What the watchdog says if babeltrace2 stops making progress (tests look for it). */
#define RP_STALL_WHAT "babeltrace2, reading the trace,"

/* A file named `metadata` stands for its trace directory: path becomes that (true). */
static bool metadata_dir(char *path)
{
	char *slash = strrchr(path, '/');

	if (strcmp(slash ? slash + 1 : path, "metadata") != 0)
		return false;
	if (!slash)
		strcpy(path, ".");
	else if (slash == path)
		path[1] = '\0';
	else
		*slash = '\0';
	return true;
}

/*
 * The trace directories under r->file, with their damage said on stderr.  0, or an exit
 * status after a one-line error.
 */
static int ctf_discover(struct rp *r, const struct mg_plugins *p, struct mg_inputs *in)
{
	const struct mg_discover_opts opts = { r->o->cmd, RP_STALL_WHAT, BT_LOGGING_LEVEL_NONE };
	char err[MG_ERRLEN], dir[PATH_MAX], *arg = dir;
	struct stat sb;
	int rc = 0;

	snprintf(dir, sizeof(dir), "%s", r->file);
	if (stat(dir, &sb) == 0 && !S_ISDIR(sb.st_mode) && !metadata_dir(dir))
		rc = MG_DISCOVER_NO_TRACE;
	if (rc == 0)
		rc = mg_discover_with(p, &arg, 1, &opts, in, err, sizeof(err));
	if (rc == MG_DISCOVER_NO_TRACE)
		wl_error(r->o, "%s: no CTF trace here (no 'metadata' file in it or below)",
			 r->file);
	else if (rc != 0)
		wl_error(r->o, "%s: cannot open CTF trace: %s", r->file, err);
	if (rc != 0)
		return RP_EXIT_USAGE;
	r->trace_dirs = in->ndirs;
	for (size_t i = 0; i < in->n; i++)
		for (size_t k = 0; k < in->src[i].damage.n; k++)
			fprintf(stderr, "%s: WARNING: damaged trace: %s: the replay misses its "
				"allocations\n", r->o->cmd, in->src[i].damage.msg[k]);
	return 0;
}

/* Steps the graph to its end under the stall watchdog.  0, or an exit status. */
static int ctf_run(struct rp_ctf *c, struct mg_graph *g)
{
	char err[MG_ERRLEN];
	enum mg_step_status st;

	/* A decoder that makes no progress ends the program (watchdog.h). */
	wd_arm(c->r->o->cmd, RP_STALL_WHAT);
	do {
		wd_tick();
		st = mg_graph_step(g, false, err, sizeof(err));
		if (st == MG_STEP_AGAIN)
			wl_sleep_ns(1000000);
	} while (st == MG_STEP_OK || st == MG_STEP_AGAIN);
	wd_disarm();
	if (st != MG_STEP_ERROR)
		return 0;
	if (c->status)
		return c->status; /* our own error, already reported */
	wl_error(c->r->o, "%s: %s", c->r->file, err);
	return RP_EXIT_USAGE;
}

int rp_read_ctf(struct rp *r)
{
	struct rp_ctf c = { .r = r };
	const struct mg_sink sink = { .name = "replay", .consume = ctf_consume, .data = &c };
	struct mg_plugins p;
	struct mg_inputs in = { NULL, 0, 0, 0 };
	struct mg_graph *g = NULL;
	char err[MG_ERRLEN];
	int ret;

	if (mg_plugins_load(&p, false, err, sizeof(err)) != 0) {
		wl_error(r->o, "cannot load the babeltrace2 'ctf' and 'utils' plugins (is "
			 "babeltrace2 installed?)");
		return RP_EXIT_FAIL;
	}
	ret = ctf_discover(r, &p, &in);
	if (ret == 0 && mg_graph_build_sink(&p, &in, &sink, BT_LOGGING_LEVEL_NONE, &g, err,
					    sizeof(err)) != 0) {
		wl_error(r->o, "%s: cannot open CTF trace: %s", r->file, err);
		ret = RP_EXIT_USAGE;
	}
	if (ret == 0)
		ret = ctf_run(&c, g);
	mg_graph_destroy(g);
	mg_inputs_free(&in);
	mg_plugins_put(&p);
	rp_kmap_free(&c.ptrs);
	rp_kmap_free(&c.tids);
	return ret;
}
