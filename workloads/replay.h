/*
 * workloads/replay.h — what the files of `magslab-workload replay` share (internal to
 * replay*.c; the subcommand's entry point, wl_replay_main, is in workload.h).
 *
 * The replay in four steps, a file each:
 *
 *   replay_csv.c    a CSV file           -> the operation list (struct rp)
 *   replay_ctf.c    a CTF trace directory (libc wrapper events, read through the
 *                   trace-reading library, tracelib/graph.h) -> the operation list
 *   replay_run.c    the operation list -> one list per replay thread, replayed
 *                   through the caches (struct rp_replay)
 *   replay.c        the subcommand: options, the steps in order, the JSON result and
 *                   the summary lines
 *
 * and replay_trace.c below them all: the operation list itself (objects, operations,
 * size classes, the counts of what the trace held) and the two hash maps the readers
 * pair operations with.
 *
 * The operation list: every allocation is an object "slot"; a free names its slot; the
 * list is in global order (CSV: t_ns, ties in file order; CTF: the muxer's time order), so
 * every allocation comes before its free.  Threads are the trace's.
 *
 * Locking: none while the list is built (one thread).  While it is replayed, a slot's ptr
 * is the only thing two threads share (the allocating thread stores it with release, a
 * freeing thread of another trace thread waits for it with acquire: replay_run.c).
 */
#ifndef MAGSLAB_WORKLOAD_REPLAY_H
#define MAGSLAB_WORKLOAD_REPLAY_H

#include "workload.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <sys/stat.h>

#define RP_MIN_SHIFT   3                      /* 8 bytes */
#define RP_MAX_SHIFT   16                     /* 64 KiB */
#define RP_NCACHES     (RP_MAX_SHIFT - RP_MIN_SHIFT + 1)
#define RP_LARGE       RP_NCACHES              /* the class index of "large" */
#define RP_NCLS        (RP_NCACHES + 1)
#define RP_MAX_SIZE    ((uint64_t)1 << 30)     /* larger requests: bad input */
#define RP_MAX_THREADS 1024
#define RP_MAX_SLOTS   UINT32_MAX

/* Exit statuses (workload.h): */
#define RP_EXIT_FAIL  1     /* the replay failed at run time */
#define RP_EXIT_USAGE 2     /* bad usage or bad input */

/* ---- the operation list ------------------------------------------------- */

enum rp_kind { RP_ALLOC, RP_ZALLOC, RP_FREE };

/* One object: allocated once, freed at most once. */
struct rp_slot {
	_Atomic(void *) ptr;    /* set by the allocating thread */
	uint64_t size;
	uint32_t thr;           /* the trace thread that allocates it */
	uint8_t cls;
};

/* An operation in global order. */
struct rp_gop {
	uint32_t slot;
	uint32_t thr;           /* trace thread */
	uint8_t kind;
};

/* An operation in a replay thread's list. */
struct rp_op {
	uint32_t slot;
	uint32_t kind;
};

struct rp_cls {
	uint64_t allocs, zallocs, frees;
};

/* A replay thread. */
struct rp_rthr {
	struct rp_op *ops;
	size_t n;
	uint64_t waits;         /* frees that waited for their alloc */
	uint64_t allocs, frees;
};

/* Object state, one per id (CSV) or pointer (CTF):
 *   0 never seen, 1 freed, 2 live but ignored (a skipped allocation),
 *   3 + slot: live. */
#define ST_UNSEEN  0
#define ST_DEAD    1
#define ST_IGNORED 2
#define ST_LIVE0   3

enum rp_err { RP_OK = 0, RP_NOMEM, RP_LIMIT };

struct rp {
	const struct wl_opts *o;
	const char *file;
	const char *format;     /* "csv" or "ctf" */

	char **thr_names;       /* trace threads */
	uint32_t nthr, thr_cap;

	struct rp_slot *slots;
	uint64_t nslots, slot_cap;

	struct rp_gop *gops;
	uint64_t ngops, gop_cap;

	struct rp_cls cls[RP_NCLS];

	/* What the trace held. */
	uint64_t records;       /* CSV data lines, or CTF events */
	uint64_t allocs, zallocs, frees, reallocs;
	uint64_t unpaired;      /* frees of objects never seen allocated */
	uint64_t double_frees;  /* ... of objects already freed (ignored) */
	uint64_t orphaned;      /* live objects whose id/pointer came again */
	uint64_t free_null;     /* free(NULL) and the like: nothing to do */
	uint64_t failed;        /* allocations that failed in the trace */
	uint64_t ignored;       /* allocations skipped (see ST_IGNORED) */
	uint64_t xthread_frees; /* freed by another thread than allocated */
	uint64_t live, max_live, live_bytes, max_live_bytes;

	/* CTF only. */
	uint64_t libc_events, other_events;
	uint64_t discarded_events, discarded_unknown, discarded_packets;
	uint64_t trace_dirs;
	bool has_vtid, has_vpid;
	uint64_t no_vtid_events, no_vpid_events;

	bool ignore_unpaired;
	double progress_at;
};

/* ---- replay_trace.c: helpers, hash maps, building the list ------------------ */

/* Makes room for need elements of size elem in *p (capacity *cap); 0 or -1. */
int rp_grow(void **p, uint64_t *cap, uint64_t need, size_t elem);
/* The size class of a request of size bytes (RP_LARGE above 64 KiB), and a class's size. */
unsigned int rp_class_of(uint64_t size);
size_t rp_class_size(unsigned int cls);
/* A progress line a second while a trace is read ("reading FILE: N what, M operations"). */
void rp_progress(struct rp *r, const char *what);

/* Strings to dense indices (interning), open addressing. */
struct rp_smap {
	char **keys;            /* by index */
	uint32_t *tab;          /* index + 1, 0 empty */
	uint64_t n, cap, tab_size, keys_cap;
};

/* *idx = the index of s (len bytes), added if new (*added = true).  0, or -1 (memory). */
int rp_smap_intern(struct rp_smap *m, const char *s, size_t len, uint32_t *idx,
		   bool *added);
void rp_smap_free(struct rp_smap *m);

/* (a, b) -> a 64-bit value, open addressing, no deletion. */
struct rp_kent {
	uint64_t a, b, val;
	bool used;
};

struct rp_kmap {
	struct rp_kent *tab;
	uint64_t n, size;
};

/* The value cell of (a, b), created as 0 if new; NULL without memory.  The
 * pointer is good until the next rp_kmap_get(). */
uint64_t *rp_kmap_get(struct rp_kmap *m, uint64_t a, uint64_t b);
void rp_kmap_free(struct rp_kmap *m);

/* A new trace thread named name: *idx.  RP_OK, RP_NOMEM or RP_LIMIT. */
int rp_add_thread(struct rp *r, const char *name, uint32_t *idx);
/* A new live object of size bytes in thread thr: *st becomes it.  RP_OK or an rp_err. */
int rp_do_alloc(struct rp *r, uint32_t thr, uint64_t *st, uint64_t size, bool zero);
/* Frees the live object *st in thread thr. */
int rp_do_free(struct rp *r, uint32_t thr, uint64_t *st);
/* realloc of the live object *st_old to size bytes, the result being *st_new
 * (st_old and st_new may be the same cell): alloc the new, free the old. */
int rp_do_realloc(struct rp *r, uint32_t thr, uint64_t *st_old, uint64_t *st_new,
		  uint64_t size);
/* Frees what struct rp holds. */
void rp_free_all(struct rp *r);

/* ---- the readers -------------------------------------------------------------- */

/* Reads the CSV of r->file from f; 0, or an exit status after a one-line error. */
int rp_read_csv(struct rp *r, FILE *f);
/* Reads the CTF trace(s) under r->file; 0, or an exit status after a one-line error. */
int rp_read_ctf(struct rp *r);

/* ---- replay_run.c: replaying ------------------------------------------------------ */

struct rp_replay {
	struct rp *r;
	struct rp_rthr *thr;
	unsigned int nthr;
	struct kmem_cache *kc[RP_NCACHES];
	struct arena *large;
	bool touch;
	_Atomic uint64_t waits;
	_Atomic int errnum;
};

/* Distributes r's global list over nthr replay threads (trace thread k to k mod nthr). */
int rp_split(struct rp *r, struct rp_replay *rp, unsigned int nthr);
/* A replay thread (wl_run_threads' function; t->arg is the struct rp_replay). */
void rp_worker(struct wl_thread *t);
/* Frees what is still allocated (after the threads are joined); returns how many. */
uint64_t rp_cleanup(struct rp_replay *rp);

#endif /* MAGSLAB_WORKLOAD_REPLAY_H */
