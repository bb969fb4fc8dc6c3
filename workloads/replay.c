/*
 * workloads/replay.c — `magslab-workload replay FILE`: replays an allocation
 * trace through magslab caches chosen by size class.
 *
 * Input.  Either
 *   - a CSV file: a header line `t_ns,thread,op,size,id`, then one operation
 *     a line; op is alloc (or malloc), calloc (a zeroed alloc), free or
 *     realloc (the object `id` gets a new size: alloc new, free old); `id`
 *     names an object and pairs its free with its alloc (an id may be used
 *     again after its free).  Lines are replayed in t_ns order (ties: file
 *     order); blank lines and lines starting with '#' are skipped.
 *   - a CTF trace (a directory) recorded with LTTng's libc wrapper
 *     (LD_PRELOAD=liblttng-ust-libc-wrapper.so, events lttng_ust_libc:malloc,
 *     calloc, realloc, free, memalign, posix_memalign), read through
 *     libbabeltrace2: a source.ctf.fs component for every directory under
 *     FILE that holds a `metadata` file, a filter.utils.muxer for time order,
 *     and a simple sink of ours.  Threads are the `vtid` context field (one
 *     thread without it); frees are paired with allocations by pointer value,
 *     per process when the `vpid` context is there.
 *
 * Both become one list of operations in global order; each trace thread's
 * operations, in that order, are replayed by one thread (or --threads N folds
 * trace thread k onto replay thread k mod N).  Every allocation is an object
 * "slot"; a free names its slot.  A free replayed in thread B of an object
 * that thread A allocates waits (spin, then sched_yield) until A has stored
 * the pointer in the slot.  As the list is in an order where every alloc
 * precedes its free, and each thread follows that order, the wait cannot
 * deadlock: the earliest operation not yet done is never waiting.
 *
 * Size classes: caches "replay-8" ... "replay-65536" (powers of two; above
 * 512 bytes magslab uses bufctl slabs), created only for the classes the
 * trace uses; a request above 64 KiB goes to arena_kpages() directly (the
 * "large" class).  A size of 0 is the 8-byte class.
 */
#include "replay.h"
#include "workload.h"
#include "tracecheck.h"
#include "watchdog.h"

#include <magslab/magslab.h>

#include <babeltrace2/babeltrace.h>

#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* ---- small helpers ------------------------------------------------------ */

static int rp_grow(void **p, uint64_t *cap, uint64_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	uint64_t ncap = *cap ? *cap : 64;
	while (ncap < need)
		ncap *= 2;
	if (ncap > SIZE_MAX / elem)
		return -1;
	void *np = realloc(*p, ncap * elem);
	if (!np)
		return -1;
	*p = np;
	*cap = ncap;
	return 0;
}

static char *rp_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

static unsigned int rp_class_of(uint64_t size)
{
	if (size <= ((uint64_t)1 << RP_MIN_SHIFT))
		return 0;
	unsigned int shift = 64 - (unsigned int)__builtin_clzll(size - 1);
	if (shift > RP_MAX_SHIFT)
		return RP_LARGE;
	return shift - RP_MIN_SHIFT;
}

static size_t rp_class_size(unsigned int cls)
{
	return (size_t)1 << (cls + RP_MIN_SHIFT);
}

static void rp_progress(struct rp *r, const char *what)
{
	double now = wl_now();
	if (r->progress_at == 0) {
		r->progress_at = now + 1.0;
		return;
	}
	if (now < r->progress_at)
		return;
	r->progress_at = now + 1.0;
	if (r->ngops)
		wl_progress(r->o, "reading %s: %" PRIu64 " %s, %" PRIu64
			    " operations", r->file, r->records, what, r->ngops);
	else    /* CSV: the operations are made after the sort */
		wl_progress(r->o, "reading %s: %" PRIu64 " %s", r->file,
			    r->records, what);
}

/* ---- hash maps ---------------------------------------------------------- */

/* Strings to dense indices (interning), open addressing. */
struct rp_smap {
	char **keys;            /* by index */
	uint32_t *tab;          /* index + 1, 0 empty */
	uint64_t n, cap, tab_size, keys_cap;
};

static uint64_t rp_hash_bytes(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;      /* FNV-1a */
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h ^ (h >> 29);
}

static uint64_t rp_hash_u64(uint64_t a, uint64_t b)
{
	uint64_t h = a * 0x9e3779b97f4a7c15ULL ^ (b + 0x632be59bd9b4e019ULL);
	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 29;
	return h;
}

static int rp_smap_rehash(struct rp_smap *m, uint64_t size)
{
	uint32_t *tab = calloc(size, sizeof(*tab));
	if (!tab)
		return -1;
	for (uint64_t i = 0; i < m->n; i++) {
		const char *k = m->keys[i];
		uint64_t h = rp_hash_bytes(k, strlen(k)) & (size - 1);
		while (tab[h])
			h = (h + 1) & (size - 1);
		tab[h] = (uint32_t)(i + 1);
	}
	free(m->tab);
	m->tab = tab;
	m->tab_size = size;
	return 0;
}

/* *idx = the index of s (len bytes), added if new (*added = true). */
static int rp_smap_intern(struct rp_smap *m, const char *s, size_t len,
			  uint32_t *idx, bool *added)
{
	if ((m->n + 1) * 2 > m->tab_size &&
	    rp_smap_rehash(m, m->tab_size ? m->tab_size * 2 : 256) != 0)
		return -1;
	uint64_t mask = m->tab_size - 1;
	uint64_t h = rp_hash_bytes(s, len) & mask;
	while (m->tab[h]) {
		const char *k = m->keys[m->tab[h] - 1];
		if (strncmp(k, s, len) == 0 && k[len] == '\0') {
			*idx = m->tab[h] - 1;
			*added = false;
			return 0;
		}
		h = (h + 1) & mask;
	}
	if (m->n >= UINT32_MAX - 1 ||
	    rp_grow((void **)&m->keys, &m->keys_cap, m->n + 1,
		    sizeof(*m->keys)) != 0)
		return -1;
	char *k = malloc(len + 1);
	if (!k)
		return -1;
	memcpy(k, s, len);
	k[len] = '\0';
	m->keys[m->n] = k;
	m->tab[h] = (uint32_t)(m->n + 1);
	*idx = (uint32_t)m->n++;
	*added = true;
	return 0;
}

static void rp_smap_free(struct rp_smap *m)
{
	for (uint64_t i = 0; i < m->n; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->tab);
	memset(m, 0, sizeof(*m));
}

/* (a, b) -> a 64-bit value, open addressing, no deletion. */
struct rp_kent {
	uint64_t a, b, val;
	bool used;
};

struct rp_kmap {
	struct rp_kent *tab;
	uint64_t n, size;
};

static int rp_kmap_rehash(struct rp_kmap *m, uint64_t size)
{
	struct rp_kent *tab = calloc(size, sizeof(*tab));
	if (!tab)
		return -1;
	for (uint64_t i = 0; i < m->size; i++) {
		struct rp_kent *e = &m->tab[i];
		if (!e->used)
			continue;
		uint64_t h = rp_hash_u64(e->a, e->b) & (size - 1);
		while (tab[h].used)
			h = (h + 1) & (size - 1);
		tab[h] = *e;
	}
	free(m->tab);
	m->tab = tab;
	m->size = size;
	return 0;
}

/* The value cell of (a, b), created as 0 if new; NULL without memory.  The
 * pointer is good until the next rp_kmap_get(). */
static uint64_t *rp_kmap_get(struct rp_kmap *m, uint64_t a, uint64_t b)
{
	if ((m->n + 1) * 2 > m->size &&
	    rp_kmap_rehash(m, m->size ? m->size * 2 : 1024) != 0)
		return NULL;
	uint64_t mask = m->size - 1;
	uint64_t h = rp_hash_u64(a, b) & mask;
	while (m->tab[h].used) {
		if (m->tab[h].a == a && m->tab[h].b == b)
			return &m->tab[h].val;
		h = (h + 1) & mask;
	}
	m->tab[h].used = true;
	m->tab[h].a = a;
	m->tab[h].b = b;
	m->tab[h].val = 0;
	m->n++;
	return &m->tab[h].val;
}

static void rp_kmap_free(struct rp_kmap *m)
{
	free(m->tab);
	memset(m, 0, sizeof(*m));
}

/* ---- building the operation list ---------------------------------------- */

static int rp_add_thread(struct rp *r, const char *name, uint32_t *idx)
{
	if (r->nthr >= UINT32_MAX - 1)
		return RP_LIMIT;
	uint64_t cap = r->thr_cap;
	if (rp_grow((void **)&r->thr_names, &cap, (uint64_t)r->nthr + 1,
		    sizeof(*r->thr_names)) != 0)
		return RP_NOMEM;
	r->thr_cap = (uint32_t)cap;
	char *n = rp_strdup(name);
	if (!n)
		return RP_NOMEM;
	r->thr_names[r->nthr] = n;
	*idx = r->nthr++;
	return RP_OK;
}

static int rp_push(struct rp *r, uint32_t thr, uint32_t slot, uint8_t kind)
{
	if (rp_grow((void **)&r->gops, &r->gop_cap, r->ngops + 1,
		    sizeof(*r->gops)) != 0)
		return RP_NOMEM;
	r->gops[r->ngops++] = (struct rp_gop){ .slot = slot, .thr = thr,
					       .kind = kind };
	return RP_OK;
}

/* A new live object of size bytes in thread thr: *st becomes it. */
static int rp_do_alloc(struct rp *r, uint32_t thr, uint64_t *st,
		       uint64_t size, bool zero)
{
	if (r->nslots >= RP_MAX_SLOTS - ST_LIVE0)
		return RP_LIMIT;
	if (rp_grow((void **)&r->slots, &r->slot_cap, r->nslots + 1,
		    sizeof(*r->slots)) != 0)
		return RP_NOMEM;
	uint32_t s = (uint32_t)r->nslots;
	struct rp_slot *sl = &r->slots[s];
	unsigned int cls = rp_class_of(size);

	atomic_init(&sl->ptr, NULL);
	sl->size = size;
	sl->thr = thr;
	sl->cls = (uint8_t)cls;
	int rc = rp_push(r, thr, s, zero ? RP_ZALLOC : RP_ALLOC);
	if (rc)
		return rc;
	r->nslots++;
	r->cls[cls].allocs++;
	if (zero) {
		r->cls[cls].zallocs++;
		r->zallocs++;
	}
	r->allocs++;
	r->live++;
	r->live_bytes += size;
	if (r->live > r->max_live)
		r->max_live = r->live;
	if (r->live_bytes > r->max_live_bytes)
		r->max_live_bytes = r->live_bytes;
	*st = ST_LIVE0 + s;
	return RP_OK;
}

/* Frees the live object *st in thread thr. */
static int rp_do_free(struct rp *r, uint32_t thr, uint64_t *st)
{
	uint32_t s = (uint32_t)(*st - ST_LIVE0);
	struct rp_slot *sl = &r->slots[s];
	int rc = rp_push(r, thr, s, RP_FREE);
	if (rc)
		return rc;
	r->cls[sl->cls].frees++;
	r->frees++;
	r->live--;
	r->live_bytes -= sl->size;
	if (sl->thr != thr)
		r->xthread_frees++;
	*st = ST_DEAD;
	return RP_OK;
}

/* realloc of the live object *st_old to size bytes, the result being *st_new
 * (st_old and st_new may be the same cell): alloc the new, free the old. */
static int rp_do_realloc(struct rp *r, uint32_t thr, uint64_t *st_old,
			 uint64_t *st_new, uint64_t size)
{
	uint64_t old = *st_old, fresh;
	int rc = rp_do_alloc(r, thr, &fresh, size, false);
	if (rc)
		return rc;
	rc = rp_do_free(r, thr, &old);
	if (rc)
		return rc;
	*st_old = ST_DEAD;
	*st_new = fresh;        /* (a live *st_new: the caller orphans it) */
	r->reallocs++;
	return RP_OK;
}

static void rp_free_all(struct rp *r)
{
	for (uint32_t i = 0; i < r->nthr; i++)
		free(r->thr_names[i]);
	free(r->thr_names);
	free(r->slots);
	free(r->gops);
	r->thr_names = NULL;
	r->slots = NULL;
	r->gops = NULL;
}

/* ---- CSV ---------------------------------------------------------------- */

struct rp_rec {
	uint64_t t, line, size;
	uint32_t thr, id;
	uint8_t op;
};

enum { OP_ALLOC, OP_CALLOC, OP_FREE, OP_REALLOC };

static int rp_rec_cmp(const void *a, const void *b)
{
	const struct rp_rec *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

static char *rp_trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	char *e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
			 e[-1] == '\n'))
		*--e = '\0';
	return s;
}

static bool rp_parse_u64(const char *s, uint64_t *out)
{
	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

/* Reads the CSV; returns 0, or an exit status after a one-line error. */
static int rp_read_csv(struct rp *r, FILE *f)
{
	struct rp_smap threads = { 0 }, ids = { 0 };
	struct rp_rec *recs = NULL;
	uint64_t nrecs = 0, rcap = 0, line = 0;
	uint64_t *state = NULL, state_cap = 0;
	char *buf = NULL;
	size_t bufsz = 0;
	bool header = false;
	int ret = RP_EXIT_USAGE;
	const char *name = r->file;

	for (;;) {
		errno = 0;
		ssize_t len = getline(&buf, &bufsz, f);
		if (len < 0) {
			if (ferror(f)) {
				wl_error(r->o, "%s: read error: %s", name,
					 strerror(errno ? errno : EIO));
				goto out;
			}
			break;
		}
		line++;
		if ((size_t)len != strlen(buf)) {
			wl_error(r->o, "%s:%" PRIu64 ": NUL byte in line", name,
				 line);
			goto out;
		}
		char *s = rp_trim(buf);
		if (*s == '\0' || *s == '#')
			continue;
		if (!header) {
			/* The header, with optional blanks around the names. */
			char norm[64];
			size_t k = 0;
			for (const char *p = s; *p && k < sizeof(norm) - 1; p++)
				if (*p != ' ' && *p != '\t')
					norm[k++] = *p;
			norm[k] = '\0';
			if (strcmp(norm, "t_ns,thread,op,size,id") != 0) {
				wl_error(r->o,
					 "%s:%" PRIu64 ": expected the CSV header "
					 "'t_ns,thread,op,size,id'", name, line);
				goto out;
			}
			header = true;
			continue;
		}
		char *fld[6];
		int nf = 0;
		char *p = s;
		for (;;) {
			char *c = strchr(p, ',');
			if (nf < 6)
				fld[nf] = p;
			nf++;
			if (!c)
				break;
			*c = '\0';
			p = c + 1;
		}
		if (nf != 5) {
			wl_error(r->o, "%s:%" PRIu64 ": expected 5 fields "
				 "(t_ns,thread,op,size,id), found %d", name, line,
				 nf);
			goto out;
		}
		for (int i = 0; i < 5; i++)
			fld[i] = rp_trim(fld[i]);

		struct rp_rec rec = { .line = line };
		if (!rp_parse_u64(fld[0], &rec.t)) {
			wl_error(r->o, "%s:%" PRIu64 ": t_ns '%s' is not a "
				 "non-negative integer", name, line, fld[0]);
			goto out;
		}
		if (*fld[1] == '\0') {
			wl_error(r->o, "%s:%" PRIu64 ": empty thread", name,
				 line);
			goto out;
		}
		if (!strcmp(fld[2], "alloc") || !strcmp(fld[2], "malloc"))
			rec.op = OP_ALLOC;
		else if (!strcmp(fld[2], "calloc"))
			rec.op = OP_CALLOC;
		else if (!strcmp(fld[2], "free"))
			rec.op = OP_FREE;
		else if (!strcmp(fld[2], "realloc"))
			rec.op = OP_REALLOC;
		else {
			wl_error(r->o, "%s:%" PRIu64 ": op '%s' is not alloc, "
				 "calloc, free or realloc", name, line, fld[2]);
			goto out;
		}
		if (rec.op != OP_FREE || *fld[3]) {
			if (!rp_parse_u64(fld[3], &rec.size)) {
				wl_error(r->o, "%s:%" PRIu64 ": size '%s' is not "
					 "a non-negative integer", name, line,
					 fld[3]);
				goto out;
			}
			if (rec.size > RP_MAX_SIZE) {
				wl_error(r->o, "%s:%" PRIu64 ": size %" PRIu64
					 " is above the limit of %" PRIu64,
					 name, line, rec.size, RP_MAX_SIZE);
				goto out;
			}
		}
		if (*fld[4] == '\0') {
			wl_error(r->o, "%s:%" PRIu64 ": empty id", name, line);
			goto out;
		}
		bool added;
		if (rp_smap_intern(&threads, fld[1], strlen(fld[1]), &rec.thr,
				   &added) != 0 ||
		    rp_smap_intern(&ids, fld[4], strlen(fld[4]), &rec.id,
				   &added) != 0 ||
		    rp_grow((void **)&recs, &rcap, nrecs + 1, sizeof(*recs)))
			goto nomem;
		recs[nrecs++] = rec;
		r->records++;
		if ((r->records & 0xffff) == 0)
			rp_progress(r, "lines");
	}
	if (!header) {
		wl_error(r->o, "%s: empty: no CSV header "
			 "'t_ns,thread,op,size,id'", name);
		goto out;
	}

	/* Threads in order of first appearance in the file. */
	for (uint64_t i = 0; i < threads.n; i++) {
		uint32_t idx;
		int rc = rp_add_thread(r, threads.keys[i], &idx);
		if (rc)
			goto nomem;
	}
	qsort(recs, nrecs, sizeof(*recs), rp_rec_cmp);
	if (rp_grow((void **)&state, &state_cap, ids.n ? ids.n : 1,
		    sizeof(*state)) != 0)
		goto nomem;
	memset(state, 0, ids.n * sizeof(*state));

	for (uint64_t i = 0; i < nrecs; i++) {
		struct rp_rec *c = &recs[i];
		uint64_t *st = &state[c->id];
		const char *idn = ids.keys[c->id];
		int rc = RP_OK;

		switch (c->op) {
		case OP_ALLOC:
		case OP_CALLOC:
			if (*st >= ST_LIVE0) {
				wl_error(r->o, "%s:%" PRIu64 ": id '%s' "
					 "allocated again before it was freed",
					 name, c->line, idn);
				goto out;
			}
			rc = rp_do_alloc(r, c->thr, st, c->size,
					 c->op == OP_CALLOC);
			break;
		case OP_FREE:
		case OP_REALLOC:
			if (*st < ST_LIVE0) {
				bool dead = *st == ST_DEAD;
				if (!r->ignore_unpaired) {
					wl_error(r->o, "%s:%" PRIu64 ": missing "
						 "pair: %s of id '%s', which %s "
						 "(--ignore-unpaired skips it)",
						 name, c->line,
						 c->op == OP_FREE ? "free"
								  : "realloc",
						 idn,
						 dead ? "was already freed"
						      : "was never allocated");
					goto out;
				}
				if (dead)
					r->double_frees++;
				else
					r->unpaired++;
				if (c->op == OP_REALLOC)
					rc = rp_do_alloc(r, c->thr, st,
							 c->size, false);
				break;
			}
			if (c->op == OP_FREE)
				rc = rp_do_free(r, c->thr, st);
			else
				rc = rp_do_realloc(r, c->thr, st, st,
						   c->size);
			break;
		}
		if (rc == RP_NOMEM)
			goto nomem;
		if (rc == RP_LIMIT) {
			wl_error(r->o, "%s:%" PRIu64 ": too many objects",
				 name, c->line);
			goto out;
		}
	}
	ret = 0;
	goto out;
nomem:
	wl_error(r->o, "%s: out of memory reading the trace", name);
	ret = RP_EXIT_FAIL;
out:
	free(buf);
	free(recs);
	free(state);
	rp_smap_free(&threads);
	rp_smap_free(&ids);
	return ret;
}

/* ---- CTF (libbabeltrace2) ----------------------------------------------- */

struct rp_ctf {
	struct rp *r;
	struct rp_kmap ptrs;    /* (vpid, pointer) -> object state */
	struct rp_kmap tids;    /* (vtid, 0) -> thread index + 1 */
	int status;             /* exit status of a failure in the sink */
};

/* Collects the directories under a path that hold a `metadata` file. */
static char **rp_dirs;
static size_t rp_ndirs, rp_dirs_cap;
static bool rp_dirs_nomem;

static int rp_find_metadata(const char *path, const struct stat *sb, int type,
			    struct FTW *ftw)
{
	(void)sb;
	if (type != FTW_F || strcmp(path + ftw->base, "metadata") != 0)
		return 0;
	uint64_t cap = rp_dirs_cap;
	if (rp_grow((void **)&rp_dirs, &cap, rp_ndirs + 1, sizeof(*rp_dirs))) {
		rp_dirs_nomem = true;
		return 1;
	}
	rp_dirs_cap = (size_t)cap;
	char *d = malloc((size_t)ftw->base + 1);
	if (!d) {
		rp_dirs_nomem = true;
		return 1;
	}
	memcpy(d, path, (size_t)ftw->base);
	d[ftw->base ? ftw->base - 1 : 0] = '\0';
	if (ftw->base == 0)
		strcpy(d, ".");
	rp_dirs[rp_ndirs++] = d;
	return 0;
}

static int rp_strcmp_p(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The one-line text of the current thread's babeltrace2 error: its root
 * cause (index 0, the first appended), whose message is the most specific;
 * the later ones only say that the caller failed. */
static void rp_bt_error(struct rp *r, const char *what)
{
	const bt_error *err = bt_current_thread_take_error();
	char msg[512] = "unknown error";
	if (err) {
		uint64_t n = bt_error_get_cause_count(err);
		if (n > 0) {
			const bt_error_cause *c =
				bt_error_borrow_cause_by_index(err, 0);
			snprintf(msg, sizeof(msg), "%s",
				 bt_error_cause_get_message(c));
			for (char *p = msg; *p; p++)
				if (*p == '\n' || *p == '\r' || *p == '\t')
					*p = ' ';
		}
		bt_error_release(err);
	}
	wl_error(r->o, "%s: %s: %s", r->file, what, msg);
}

/* A named integer member of a structure field. */
static bool rp_field_u64(const bt_field *s, const char *name, uint64_t *out)
{
	if (!s || bt_field_get_class_type(s) != BT_FIELD_CLASS_TYPE_STRUCTURE)
		return false;
	const bt_field *f =
		bt_field_structure_borrow_member_field_by_name_const(s, name);
	if (!f)
		return false;
	bt_field_class_type t = bt_field_get_class_type(f);
	if (bt_field_class_type_is(t, BT_FIELD_CLASS_TYPE_UNSIGNED_INTEGER))
		*out = bt_field_integer_unsigned_get_value(f);
	else if (bt_field_class_type_is(t, BT_FIELD_CLASS_TYPE_SIGNED_INTEGER))
		*out = (uint64_t)bt_field_integer_signed_get_value(f);
	else
		return false;
	return true;
}

enum { EV_MALLOC, EV_CALLOC, EV_REALLOC, EV_FREE, EV_MEMALIGN,
       EV_POSIX_MEMALIGN, EV_OTHER };

static int rp_ev_kind(const char *name)
{
	static const char *const names[] = {
		"lttng_ust_libc:malloc", "lttng_ust_libc:calloc",
		"lttng_ust_libc:realloc", "lttng_ust_libc:free",
		"lttng_ust_libc:memalign", "lttng_ust_libc:posix_memalign",
	};
	if (!name)
		return EV_OTHER;
	for (int i = 0; i < EV_OTHER; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return EV_OTHER;
}

/* The sink's error, reported once. */
static int rp_ctf_fail(struct rp_ctf *c, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int rp_ctf_fail(struct rp_ctf *c, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	wl_error(c->r->o, "%s: event %" PRIu64 ": %s", c->r->file,
		 c->r->records, msg);
	c->status = status;
	return -1;
}

static int rp_ctf_rc(struct rp_ctf *c, int rc)
{
	if (rc == RP_NOMEM)
		return rp_ctf_fail(c, RP_EXIT_FAIL, "out of memory");
	if (rc == RP_LIMIT)
		return rp_ctf_fail(c, RP_EXIT_FAIL, "too many objects");
	return 0;
}

/* A new object at (pid, ptr) in thread thr. */
static int rp_ctf_alloc(struct rp_ctf *c, uint32_t thr, uint64_t pid,
			uint64_t ptr, uint64_t size, bool zero)
{
	struct rp *r = c->r;
	uint64_t *st = rp_kmap_get(&c->ptrs, pid, ptr);
	if (!st)
		return rp_ctf_rc(c, RP_NOMEM);
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
	return rp_ctf_rc(c, rp_do_alloc(r, thr, st, size, zero));
}

/* Frees (pid, ptr), or counts why it cannot. */
static int rp_ctf_free(struct rp_ctf *c, uint32_t thr, uint64_t pid,
		       uint64_t ptr, const char *what)
{
	struct rp *r = c->r;
	uint64_t *st = rp_kmap_get(&c->ptrs, pid, ptr);
	if (!st)
		return rp_ctf_rc(c, RP_NOMEM);
	if (*st >= ST_LIVE0)
		return rp_ctf_rc(c, rp_do_free(r, thr, st));
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
	/* Freed already.  After lost events that is expected (the malloc
	 * that returned the pointer again was lost): skip and count it.
	 * Otherwise the trace is wrong, or the program is. */
	bool lost = r->discarded_events || r->discarded_unknown ||
		    r->discarded_packets;
	if (!r->ignore_unpaired && !lost) {
		char proc[40] = "";
		if (r->has_vpid)
			snprintf(proc, sizeof(proc), " (process %" PRIu64 ")",
				 pid);
		return rp_ctf_fail(c, RP_EXIT_USAGE, "double free: %s of "
				   "pointer 0x%" PRIx64 "%s, already freed "
				   "(--ignore-unpaired skips it)", what, ptr,
				   proc);
	}
	r->double_frees++;
	return 0;
}

static int rp_ctf_thread(struct rp_ctf *c, const bt_event *ev, uint32_t *thr)
{
	struct rp *r = c->r;
	const bt_field *ctx = bt_event_borrow_common_context_field_const(ev);
	uint64_t tid;
	char name[32];

	if (rp_field_u64(ctx, "vtid", &tid)) {
		r->has_vtid = true;
		snprintf(name, sizeof(name), "%" PRIu64, tid);
	} else {
		r->no_vtid_events++;
		tid = UINT64_MAX;
		snprintf(name, sizeof(name), "all");
	}
	uint64_t *v = rp_kmap_get(&c->tids, tid, 0);
	if (!v)
		return rp_ctf_rc(c, RP_NOMEM);
	if (*v == 0) {
		uint32_t idx;
		int rc = rp_add_thread(r, name, &idx);
		if (rc)
			return rp_ctf_rc(c, rc);
		v = rp_kmap_get(&c->tids, tid, 0);
		*v = (uint64_t)idx + 1;
	}
	*thr = (uint32_t)(*v - 1);
	return 0;
}

#define NEED(field, var)                                                   \
	do {                                                               \
		if (!rp_field_u64(pl, field, &(var)))                      \
			return rp_ctf_fail(c, RP_EXIT_USAGE,               \
					   "%s has no integer field '%s'", \
					   evname, field);                 \
	} while (0)

static int rp_ctf_event(struct rp_ctf *c, const bt_message *msg)
{
	struct rp *r = c->r;
	const bt_event *ev = bt_message_event_borrow_event_const(msg);
	const char *evname = bt_event_class_get_name(
		bt_event_borrow_class_const(ev));
	int kind = rp_ev_kind(evname);

	r->records++;
	if (kind == EV_OTHER) {
		r->other_events++;
		return 0;
	}
	r->libc_events++;

	uint32_t thr = 0;
	if (rp_ctf_thread(c, ev, &thr) != 0)
		return -1;
	uint64_t pid = 0;
	const bt_field *ctx = bt_event_borrow_common_context_field_const(ev);
	if (rp_field_u64(ctx, "vpid", &pid))
		r->has_vpid = true;
	else
		r->no_vpid_events++;

	const bt_field *pl = bt_event_borrow_payload_field_const(ev);
	uint64_t size = 0, nmemb = 0, ptr = 0, in_ptr = 0, align = 0, res = 0;

	switch (kind) {
	case EV_MALLOC:
		NEED("size", size);
		NEED("ptr", ptr);
		if (!ptr) {
			r->failed++;
			return 0;
		}
		return rp_ctf_alloc(c, thr, pid, ptr, size, false);
	case EV_CALLOC:
		NEED("nmemb", nmemb);
		NEED("size", size);
		NEED("ptr", ptr);
		if (!ptr) {
			r->failed++;
			return 0;
		}
		if (size && nmemb > UINT64_MAX / size)
			return rp_ctf_fail(c, RP_EXIT_USAGE, "calloc(%" PRIu64
					   ", %" PRIu64 ") overflows", nmemb,
					   size);
		return rp_ctf_alloc(c, thr, pid, ptr, nmemb * size, true);
	case EV_MEMALIGN:
		NEED("alignment", align);
		NEED("size", size);
		NEED("ptr", ptr);
		if (!ptr) {
			r->failed++;
			return 0;
		}
		return rp_ctf_alloc(c, thr, pid, ptr, size, false);
	case EV_POSIX_MEMALIGN:
		NEED("out_ptr", ptr);
		NEED("alignment", align);
		NEED("size", size);
		NEED("result", res);
		if (res != 0 || !ptr) {
			r->failed++;
			return 0;
		}
		return rp_ctf_alloc(c, thr, pid, ptr, size, false);
	case EV_FREE:
		NEED("ptr", ptr);
		if (!ptr) {
			r->free_null++;
			return 0;
		}
		return rp_ctf_free(c, thr, pid, ptr, "free");
	case EV_REALLOC:
		NEED("in_ptr", in_ptr);
		NEED("size", size);
		NEED("ptr", ptr);
		if (!in_ptr) {                  /* realloc(NULL, n): malloc */
			if (!ptr) {
				r->failed++;
				return 0;
			}
			return rp_ctf_alloc(c, thr, pid, ptr, size, false);
		}
		if (!ptr) {
			if (size == 0)          /* realloc(p, 0): free */
				return rp_ctf_free(c, thr, pid, in_ptr,
						   "realloc");
			r->failed++;            /* failed: p stays */
			return 0;
		}
		{
			uint64_t *old = rp_kmap_get(&c->ptrs, pid, in_ptr);
			if (!old)
				return rp_ctf_rc(c, RP_NOMEM);
			if (*old < ST_LIVE0 || size > RP_MAX_SIZE) {
				/* The old object is not replayed: a free it
				 * cannot do, then an allocation. */
				if (rp_ctf_free(c, thr, pid, in_ptr,
						"realloc") != 0)
					return -1;
				return rp_ctf_alloc(c, thr, pid, ptr, size,
						    false);
			}
			if (in_ptr == ptr)
				return rp_ctf_rc(c, rp_do_realloc(r, thr, old,
								  old, size));
			/* Two cells: the second lookup may move the first;
			 * make sure the new one exists, then look both up. */
			if (!rp_kmap_get(&c->ptrs, pid, ptr))
				return rp_ctf_rc(c, RP_NOMEM);
			old = rp_kmap_get(&c->ptrs, pid, in_ptr);
			uint64_t *nw = rp_kmap_get(&c->ptrs, pid, ptr);
			if (*nw >= ST_LIVE0 || *nw == ST_IGNORED) {
				r->orphaned++;
				*nw = ST_UNSEEN;
			}
			return rp_ctf_rc(c, rp_do_realloc(r, thr, old, nw,
							  size));
		}
	}
	return 0;
}
#undef NEED

static bt_graph_simple_sink_component_consume_func_status
rp_ctf_consume(bt_message_iterator *it, void *data)
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
		const bt_message *m = msgs[i];
		if (!failed) {
			uint64_t n;
			switch (bt_message_get_type(m)) {
			case BT_MESSAGE_TYPE_EVENT:
				if (rp_ctf_event(c, m) != 0)
					failed = 1;
				else if ((c->r->records & 0xffff) == 0)
					rp_progress(c->r, "events");
				break;
			case BT_MESSAGE_TYPE_DISCARDED_EVENTS:
				if (bt_message_discarded_events_get_count(m, &n) ==
				    BT_PROPERTY_AVAILABILITY_AVAILABLE)
					c->r->discarded_events += n;
				else
					c->r->discarded_unknown++;
				break;
			case BT_MESSAGE_TYPE_DISCARDED_PACKETS:
				if (bt_message_discarded_packets_get_count(m, &n) ==
				    BT_PROPERTY_AVAILABILITY_AVAILABLE)
					c->r->discarded_packets += n;
				else
					c->r->discarded_packets++;
				break;
			default:
				break;
			}
		}
		bt_message_put_ref(m);
	}
	if (failed) {
		BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_UNKNOWN(
			"magslab-replay", "replay: bad event (reported)");
		return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_ERROR;
	}
	return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_OK;
}

/*
 * The trace directories' files before babeltrace2 reads them (analysis/tracecheck.h): a
 * metadata file cut inside a packet is refused (babeltrace2 would loop forever on it); a
 * stream missing or shorter than its index is lost data, said on stderr.  0, or -1.
 */
static int rp_check_files(struct rp *r)
{
	struct tc_findings f = { NULL, 0 };
	char path[PATH_MAX + 16], err[1024];

	for (size_t d = 0; d < rp_ndirs; d++) {
		snprintf(path, sizeof(path), "%s/metadata", rp_dirs[d]);
		if (tc_check_metadata(path, err, sizeof(err)) != 0) {
			wl_error(r->o, "%s", err);
			tc_findings_free(&f);
			return -1;
		}
		tc_check_streams(rp_dirs[d], NULL, &f);
	}
	for (size_t k = 0; k < f.n; k++)
		fprintf(stderr, "%s: WARNING: damaged trace: %s: the replay misses its "
			"allocations\n", r->o->cmd, f.msg[k]);
	tc_findings_free(&f);
	return 0;
}

/* Reads the CTF trace(s) under r->file; returns 0 or an exit status. */
static int rp_read_ctf(struct rp *r)
{
	struct rp_ctf c = { .r = r };
	const bt_plugin *ctf = NULL, *utils = NULL;
	bt_graph *graph = NULL;
	bt_value *params = NULL;
	int ret = RP_EXIT_USAGE;

	rp_ndirs = 0;
	rp_dirs_nomem = false;
	if (nftw(r->file, rp_find_metadata, 32, FTW_PHYS) == -1) {
		wl_error(r->o, "%s: %s", r->file, strerror(errno));
		goto out;
	}
	if (rp_dirs_nomem) {
		wl_error(r->o, "%s: out of memory", r->file);
		ret = RP_EXIT_FAIL;
		goto out;
	}
	if (rp_ndirs == 0) {
		wl_error(r->o, "%s: no CTF trace here (no 'metadata' file in "
			 "it or below)", r->file);
		goto out;
	}
	qsort(rp_dirs, rp_ndirs, sizeof(*rp_dirs), rp_strcmp_p);
	r->trace_dirs = rp_ndirs;
	if (rp_check_files(r) != 0)
		goto out;

	if (bt_plugin_find("ctf", BT_TRUE, BT_TRUE, BT_TRUE, BT_TRUE, BT_TRUE,
			   &ctf) != BT_PLUGIN_FIND_STATUS_OK ||
	    bt_plugin_find("utils", BT_TRUE, BT_TRUE, BT_TRUE, BT_TRUE, BT_TRUE,
			   &utils) != BT_PLUGIN_FIND_STATUS_OK) {
		bt_current_thread_clear_error();
		wl_error(r->o, "cannot load the babeltrace2 'ctf' and 'utils' "
			 "plugins (is babeltrace2 installed?)");
		ret = RP_EXIT_FAIL;
		goto out;
	}
	const bt_component_class_source *fs =
		bt_plugin_borrow_source_component_class_by_name_const(ctf, "fs");
	const bt_component_class_filter *muxc =
		bt_plugin_borrow_filter_component_class_by_name_const(utils,
								      "muxer");
	if (!fs || !muxc) {
		wl_error(r->o, "babeltrace2 has no source.ctf.fs or "
			 "filter.utils.muxer component class");
		ret = RP_EXIT_FAIL;
		goto out;
	}
	graph = bt_graph_create(0);
	if (!graph)
		goto bt_nomem;
	/* A decoder that makes no progress ends the program (analysis/watchdog.h). */
	wd_arm("magslab-workload replay", "babeltrace2, reading the trace,");

	const bt_component_filter *mux;
	const bt_component_sink *sink;
	if (bt_graph_add_filter_component(graph, muxc, "muxer", NULL,
					  BT_LOGGING_LEVEL_NONE, &mux) !=
	    BT_GRAPH_ADD_COMPONENT_STATUS_OK) {
		rp_bt_error(r, "cannot make a muxer");
		ret = RP_EXIT_FAIL;
		goto out;
	}
	for (size_t d = 0; d < rp_ndirs; d++) {
		const bt_component_source *src;
		char cname[32];
		bt_value *inputs;

		params = bt_value_map_create();
		if (!params ||
		    bt_value_map_insert_empty_array_entry(params, "inputs",
							  &inputs) !=
			    BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK ||
		    bt_value_array_append_string_element(inputs, rp_dirs[d]) !=
			    BT_VALUE_ARRAY_APPEND_ELEMENT_STATUS_OK)
			goto bt_nomem;
		snprintf(cname, sizeof(cname), "src%zu", d);
		if (bt_graph_add_source_component(graph, fs, cname, params,
						  BT_LOGGING_LEVEL_NONE,
						  &src) !=
		    BT_GRAPH_ADD_COMPONENT_STATUS_OK) {
			char what[64 + PATH_MAX];
			snprintf(what, sizeof(what), "cannot open CTF trace %s",
				 rp_dirs[d]);
			rp_bt_error(r, what);
			goto out;
		}
		bt_value_put_ref(params);
		params = NULL;
		uint64_t nports = bt_component_source_get_output_port_count(src);
		for (uint64_t p = 0; p < nports; p++) {
			uint64_t nin = bt_component_filter_get_input_port_count(mux);
			const bt_port_input *in =
				bt_component_filter_borrow_input_port_by_index_const(
					mux, nin - 1);
			const bt_port_output *out =
				bt_component_source_borrow_output_port_by_index_const(
					src, p);
			if (bt_graph_connect_ports(graph, out, in, NULL) !=
			    BT_GRAPH_CONNECT_PORTS_STATUS_OK) {
				rp_bt_error(r, "cannot connect the trace to "
					    "the muxer");
				ret = RP_EXIT_FAIL;
				goto out;
			}
		}
	}
	if (bt_graph_add_simple_sink_component(graph, "replay", NULL,
					       rp_ctf_consume, NULL, &c,
					       &sink) !=
	    BT_GRAPH_ADD_COMPONENT_STATUS_OK) {
		rp_bt_error(r, "cannot make the sink");
		ret = RP_EXIT_FAIL;
		goto out;
	}
	if (bt_graph_connect_ports(
		    graph,
		    bt_component_filter_borrow_output_port_by_name_const(mux,
									 "out"),
		    bt_component_sink_borrow_input_port_by_name_const(sink, "in"),
		    NULL) != BT_GRAPH_CONNECT_PORTS_STATUS_OK) {
		rp_bt_error(r, "cannot connect the muxer to the sink");
		ret = RP_EXIT_FAIL;
		goto out;
	}

	for (;;) {
		bt_graph_run_status st = bt_graph_run(graph);
		if (st == BT_GRAPH_RUN_STATUS_OK)
			break;
		if (st == BT_GRAPH_RUN_STATUS_AGAIN) {
			wd_tick();
			wl_sleep_ns(1000000);
			continue;
		}
		if (c.status) {
			/* Our own error, already reported. */
			bt_current_thread_clear_error();
			ret = c.status;
			goto out;
		}
		if (st == BT_GRAPH_RUN_STATUS_MEMORY_ERROR)
			goto bt_nomem;
		rp_bt_error(r, "cannot read the CTF trace");
		goto out;
	}
	ret = 0;
	goto out;
bt_nomem:
	bt_current_thread_clear_error();
	wl_error(r->o, "%s: out of memory reading the trace", r->file);
	ret = RP_EXIT_FAIL;
out:
	wd_disarm();
	bt_value_put_ref(params);
	bt_graph_put_ref(graph);
	bt_plugin_put_ref(ctf);
	bt_plugin_put_ref(utils);
	for (size_t d = 0; d < rp_ndirs; d++)
		free(rp_dirs[d]);
	free(rp_dirs);
	rp_dirs = NULL;
	rp_ndirs = rp_dirs_cap = 0;
	rp_kmap_free(&c.ptrs);
	rp_kmap_free(&c.tids);
	return ret;
}

/* ---- replaying ---------------------------------------------------------- */

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

static inline void rp_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static void *rp_obj_alloc(struct rp_replay *rp, struct rp_slot *sl,
			  bool zero)
{
	void *p;
	if (sl->cls == RP_LARGE) {
		p = arena_alloc(rp->large, sl->size ? sl->size : 1, MEM_WAIT);
		if (p && zero)
			memset(p, 0, sl->size);
	} else if (zero) {
		p = kmem_cache_zalloc(rp->kc[sl->cls], MEM_WAIT);
	} else {
		p = kmem_cache_alloc(rp->kc[sl->cls], MEM_WAIT);
	}
	if (p && rp->touch && !zero)
		memset(p, 0xa5, sl->size);
	return p;
}

static void rp_obj_free(struct rp_replay *rp, struct rp_slot *sl, void *p)
{
	if (sl->cls == RP_LARGE)
		arena_free(rp->large, p, sl->size ? sl->size : 1);
	else
		kmem_cache_free(rp->kc[sl->cls], p);
}

/* Stop replaying: a thread failed (wl_fail), or not every thread could be
 * created, so some allocations will never happen.  (There is no deadline:
 * run->stop is set for nothing else before every thread has returned.) */
static inline bool rp_aborted(struct wl_thread *t)
{
	return atomic_load_explicit(&t->run->stop, memory_order_relaxed);
}

static void rp_worker(struct wl_thread *t)
{
	struct rp_replay *rp = t->arg;
	struct rp_rthr *th = &rp->thr[t->index];
	struct rp_slot *slots = rp->r->slots;
	uint64_t waits = 0, allocs = 0, frees = 0;

	for (size_t i = 0; i < th->n; i++) {
		struct rp_op op = th->ops[i];
		struct rp_slot *sl = &slots[op.slot];

		if ((i & 255) == 0 && rp_aborted(t))
			break;
		if (op.kind == RP_FREE) {
			void *p = atomic_load_explicit(&sl->ptr,
						       memory_order_acquire);
			if (!p) {
				/* Allocated by another thread, not yet. */
				unsigned int spins = 0;
				waits++;
				while (!(p = atomic_load_explicit(
						 &sl->ptr,
						 memory_order_acquire))) {
					if (rp_aborted(t))
						goto done;
					if (++spins < 128)
						rp_cpu_relax();
					else
						sched_yield();
				}
			}
			/* The one free of this slot: the slot is empty again
			 * (what rp_cleanup() finds set is still allocated). */
			atomic_store_explicit(&sl->ptr, NULL,
					      memory_order_relaxed);
			rp_obj_free(rp, sl, p);
			frees++;
		} else {
			void *p = rp_obj_alloc(rp, sl, op.kind == RP_ZALLOC);
			if (!p) {
				int e = errno ? errno : ENOMEM;
				atomic_store(&rp->errnum, e);
				wl_fail(t, "an allocation of the trace returned NULL");     /* stops every thread */
				break;
			}
			atomic_store_explicit(&sl->ptr, p,
					      memory_order_release);
			allocs++;
		}
		wl_count(t, 1);
	}
done:
	th->waits += waits;
	th->allocs += allocs;
	th->frees += frees;
	atomic_fetch_add(&rp->waits, waits);
}

/* Frees what is still allocated (what the trace leaves live, and after a
 * failure what it did not get to free), so that every slot is empty for the
 * next round.  After the threads are joined.  Returns how many. */
static uint64_t rp_cleanup(struct rp_replay *rp)
{
	struct rp *r = rp->r;
	uint64_t left = 0;
	for (uint64_t i = 0; i < r->nslots; i++) {
		struct rp_slot *sl = &r->slots[i];
		void *p = atomic_load_explicit(&sl->ptr, memory_order_relaxed);
		if (!p)
			continue;
		atomic_store_explicit(&sl->ptr, NULL, memory_order_relaxed);
		rp_obj_free(rp, sl, p);
		left++;
	}
	return left;
}

/* ---- report ------------------------------------------------------------- */

struct rp_report {
	struct rp *r;
	struct rp_replay *rp;
	unsigned int repeat;
	bool touch;
};

static void rp_json_params(struct wl_json *j, void *arg)
{
	struct rp_report *rr = arg;
	wl_json_kstr(j, "file", rr->r->file);
	wl_json_kstr(j, "format", rr->r->format);
	wl_json_ku64(j, "repeat", rr->repeat);
	wl_json_kbool(j, "ignore_unpaired", rr->r->ignore_unpaired);
	wl_json_kbool(j, "touch", rr->touch);
	wl_json_ku64(j, "trace_threads", rr->r->nthr);
	wl_json_ku64(j, "min_class", (uint64_t)1 << RP_MIN_SHIFT);
	wl_json_ku64(j, "max_class", (uint64_t)1 << RP_MAX_SHIFT);
}

static void rp_json_extra(struct wl_json *j, void *arg)
{
	struct rp_report *rr = arg;
	struct rp *r = rr->r;
	struct rp_replay *rp = rr->rp;

	wl_json_key(j, "input");
	wl_json_obj_begin(j);
	wl_json_kstr(j, "format", r->format);
	if (!strcmp(r->format, "csv")) {
		wl_json_ku64(j, "lines", r->records);
	} else {
		wl_json_ku64(j, "trace_dirs", r->trace_dirs);
		wl_json_ku64(j, "events", r->records);
		wl_json_ku64(j, "libc_events", r->libc_events);
		wl_json_ku64(j, "other_events", r->other_events);
		wl_json_ku64(j, "discarded_events", r->discarded_events);
		wl_json_ku64(j, "discarded_events_unknown_count",
			     r->discarded_unknown);
		wl_json_ku64(j, "discarded_packets", r->discarded_packets);
		wl_json_kbool(j, "has_vtid", r->has_vtid);
		wl_json_kbool(j, "has_vpid", r->has_vpid);
		wl_json_ku64(j, "failed_allocs", r->failed);
		wl_json_ku64(j, "free_null", r->free_null);
		wl_json_ku64(j, "ignored_huge", r->ignored);
	}
	wl_json_obj_end(j);

	wl_json_key(j, "trace");
	wl_json_obj_begin(j);
	wl_json_ku64(j, "threads", r->nthr);
	wl_json_ku64(j, "ops", r->ngops);
	wl_json_ku64(j, "allocs", r->allocs);
	wl_json_ku64(j, "zeroed_allocs", r->zallocs);
	wl_json_ku64(j, "frees", r->frees);
	wl_json_ku64(j, "reallocs", r->reallocs);
	wl_json_ku64(j, "unpaired_frees", r->unpaired);
	wl_json_ku64(j, "double_frees", r->double_frees);
	wl_json_ku64(j, "orphaned", r->orphaned);
	wl_json_ku64(j, "cross_thread_frees", r->xthread_frees);
	wl_json_ku64(j, "live_at_end", r->live);
	wl_json_ku64(j, "max_live", r->max_live);
	wl_json_ku64(j, "max_live_bytes", r->max_live_bytes);
	wl_json_obj_end(j);

	wl_json_key(j, "replay");
	wl_json_obj_begin(j);
	wl_json_ku64(j, "threads", rp->nthr);
	wl_json_ku64(j, "repeat", rr->repeat);
	wl_json_ku64(j, "cross_thread_waits",
		     atomic_load(&rp->waits));
	wl_json_key(j, "per_thread");
	wl_json_arr_begin(j);
	for (unsigned int t = 0; t < rp->nthr; t++) {
		const struct rp_rthr *th = &rp->thr[t];
		wl_json_obj_begin(j);
		wl_json_ku64(j, "index", t);
		/* The trace thread it replays, or null when folded. */
		wl_json_kstr(j, "trace_thread",
			     rp->nthr == r->nthr ? r->thr_names[t] : NULL);
		wl_json_ku64(j, "ops", th->n);
		wl_json_ku64(j, "allocs", th->allocs);
		wl_json_ku64(j, "frees", th->frees);
		wl_json_ku64(j, "waits", th->waits);
		wl_json_obj_end(j);
	}
	wl_json_arr_end(j);
	wl_json_obj_end(j);

	wl_json_key(j, "classes");
	wl_json_arr_begin(j);
	for (unsigned int c = 0; c < RP_NCLS; c++) {
		const struct rp_cls *k = &r->cls[c];
		if (!k->allocs && !k->frees)
			continue;
		wl_json_obj_begin(j);
		if (c == RP_LARGE) {
			wl_json_kstr(j, "class", "large");
			wl_json_key(j, "size");
			wl_json_null(j);
			wl_json_kstr(j, "cache", NULL);
			wl_json_kstr(j, "path", "kpages");
		} else {
			char name[KMC_NAME_LEN];
			snprintf(name, sizeof(name), "replay-%zu",
				 rp_class_size(c));
			wl_json_kstr(j, "class", name + 7);
			wl_json_ku64(j, "size", rp_class_size(c));
			wl_json_kstr(j, "cache", name);
			wl_json_kstr(j, "path",
				     rp_class_size(c) > 512 ? "bufctl" : "slab");
		}
		wl_json_ku64(j, "allocs", k->allocs);
		wl_json_ku64(j, "zeroed_allocs", k->zallocs);
		wl_json_ku64(j, "frees", k->frees);
		wl_json_ku64(j, "live_at_end", k->allocs - k->frees);
		wl_json_obj_end(j);
	}
	wl_json_arr_end(j);

	if (rp->large) {
		wl_json_key(j, "large_arena");
		wl_json_arena(j, rp->large);
	}
}

/* ---- the subcommand ------------------------------------------------------ */

static void rp_usage(FILE *f)
{
	fputs(
"usage: magslab-workload replay [options] FILE\n"
"\n"
"Replays an allocation trace through magslab caches chosen by size class:\n"
"replay-8, replay-16 ... replay-65536 (powers of two; above 512 bytes they\n"
"use bufctl slabs); a request above 64 KiB goes to the kpages arena (the\n"
"\"large\" class).  FILE is\n"
"  - a CSV file, header t_ns,thread,op,size,id; op is alloc, calloc, free or\n"
"    realloc; id names an object and pairs its free with its alloc; lines\n"
"    are replayed in t_ns order (\"-\": read it from stdin), or\n"
"  - a CTF trace directory recorded with LD_PRELOAD=liblttng-ust-libc-\n"
"    wrapper.so and `lttng enable-event -u 'lttng_ust_libc:*'`; add the\n"
"    contexts `lttng add-context -u -t vtid -t vpid` (without vtid the trace\n"
"    is one thread; without vpid pointers of different processes are not\n"
"    told apart).  A free of a pointer allocated before the trace started is\n"
"    skipped and counted; discarded events are counted and reported.\n"
"One replay thread per trace thread, each in its trace order; a free waits\n"
"until its alloc, in whatever thread, has happened.  The whole trace is\n"
"replayed: --duration, --ops and --objsize do not apply.  Objects the trace\n"
"never frees are freed after the report.\n"
"\n"
"Replay options:\n"
"  --format auto|csv|ctf  auto (default): a directory is CTF, a file CSV\n"
"  --ignore-unpaired      skip (and count) a free of an object that was never\n"
"                         allocated (CSV) or was already freed, instead of\n"
"                         failing\n"
"  --repeat N             replay the trace N times (default 1)\n"
"  --touch                write every allocated byte (calloc always zeroes)\n"
"  --threads N            fold trace thread k onto replay thread k mod N\n"
"\n"
"Exit status: 0 done, 1 the replay failed (allocation failure, library\n"
"error), 2 bad usage or bad input (unreadable or malformed trace, a free\n"
"without its alloc in a CSV, a double free).\n"
"\n", f);
	wl_usage_common(f);
}

/* Distributes the global list over nthr replay threads. */
static int rp_split(struct rp *r, struct rp_replay *rp, unsigned int nthr)
{
	rp->nthr = nthr;
	rp->thr = calloc(nthr, sizeof(*rp->thr));
	if (!rp->thr)
		return -1;
	for (uint64_t i = 0; i < r->ngops; i++)
		rp->thr[r->gops[i].thr % nthr].n++;
	for (unsigned int t = 0; t < nthr; t++) {
		rp->thr[t].ops = malloc((rp->thr[t].n ? rp->thr[t].n : 1) *
					sizeof(struct rp_op));
		if (!rp->thr[t].ops)
			return -1;
		rp->thr[t].n = 0;
	}
	for (uint64_t i = 0; i < r->ngops; i++) {
		struct rp_rthr *th = &rp->thr[r->gops[i].thr % nthr];
		th->ops[th->n++] = (struct rp_op){ .slot = r->gops[i].slot,
						   .kind = r->gops[i].kind };
	}
	return 0;
}

int wl_replay_main(int argc, char **argv)
{
	struct wl_opts o;
	struct rp r;
	struct rp_replay rp;
	struct wl_run run;
	const char *file = NULL, *format = "auto";
	unsigned int repeat = 1;
	bool touch = false, ignore_unpaired = false;
	int ret = RP_EXIT_USAGE;

	memset(&r, 0, sizeof(r));
	memset(&rp, 0, sizeof(rp));
	wl_opts_init(&o, "replay");
	o.threads = 0;              /* 0: --threads not given */

	for (int i = 1; i < argc;) {
		const char *v;
		int rc;

		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			rp_usage(stdout);
			return 0;
		}
		rc = wl_parse_common(argc, argv, &i, &o);
		if (rc < 0)
			return RP_EXIT_USAGE;
		if (rc > 0)
			continue;
		if ((rc = wl_opt_value(&o, argc, argv, &i, "--format", &v))) {
			if (rc < 0)
				return RP_EXIT_USAGE;
			if (strcmp(v, "auto") && strcmp(v, "csv") &&
			    strcmp(v, "ctf")) {
				wl_error(&o, "--format: '%s' is not auto, csv "
					 "or ctf", v);
				return RP_EXIT_USAGE;
			}
			format = v;
			continue;
		}
		if ((rc = wl_opt_value(&o, argc, argv, &i, "--repeat", &v))) {
			if (rc < 0 || wl_parse_uint(&o, "--repeat", v,
						    &repeat) != 0)
				return RP_EXIT_USAGE;
			if (repeat == 0) {
				wl_error(&o, "--repeat: must be at least 1");
				return RP_EXIT_USAGE;
			}
			continue;
		}
		if (wl_opt_flag(argc, argv, &i, "--touch")) {
			touch = true;
			continue;
		}
		if (wl_opt_flag(argc, argv, &i, "--ignore-unpaired")) {
			ignore_unpaired = true;
			continue;
		}
		if (argv[i][0] == '-' && argv[i][1] != '\0') {
			wl_bad_arg(&o, argv[i]);
			return RP_EXIT_USAGE;
		}
		if (file) {
			wl_error(&o, "one trace FILE only ('%s' and '%s')",
				 file, argv[i]);
			return RP_EXIT_USAGE;
		}
		file = argv[i++];
	}
	if (!file) {
		wl_error(&o, "no trace FILE (try --help)");
		return RP_EXIT_USAGE;
	}
	if (o.duration_set || o.ops) {
		wl_error(&o, "--duration and --ops do not apply: replay runs "
			 "the whole trace (use --repeat N)");
		return RP_EXIT_USAGE;
	}
	if (o.objsize_set) {
		wl_error(&o, "--objsize does not apply: the sizes come from "
			 "the trace");
		return RP_EXIT_USAGE;
	}
	if (o.check_only)
		return 0;           /* --check-options: the options are valid */
	o.duration_s = 0;           /* no deadline: wl_run_threads runs to the end */

	r.o = &o;
	r.file = file;
	r.ignore_unpaired = ignore_unpaired;
	struct stat sb;
	bool is_stdin = !strcmp(file, "-");
	if (!is_stdin && stat(file, &sb) != 0) {
		wl_error(&o, "%s: %s", file, strerror(errno));
		return RP_EXIT_USAGE;
	}
	if (!strcmp(format, "auto"))
		format = !is_stdin && S_ISDIR(sb.st_mode) ? "ctf" : "csv";
	r.format = format;
	double t_read = wl_now();
	if (!strcmp(format, "csv")) {
		if (!is_stdin && S_ISDIR(sb.st_mode)) {
			wl_error(&o, "%s: is a directory, not a CSV file",
				 file);
			return RP_EXIT_USAGE;
		}
		FILE *f = is_stdin ? stdin : fopen(file, "r");
		if (!f) {
			wl_error(&o, "%s: %s", file, strerror(errno));
			return RP_EXIT_USAGE;
		}
		ret = rp_read_csv(&r, f);
		if (!is_stdin)
			fclose(f);
	} else {
		if (is_stdin) {
			wl_error(&o, "a CTF trace cannot be read from stdin");
			return RP_EXIT_USAGE;
		}
		ret = rp_read_ctf(&r);
	}
	if (ret)
		goto out;
	t_read = wl_now() - t_read;

	if (r.nthr == 0 || r.ngops == 0) {
		wl_error(&o, "%s: no allocations to replay (%" PRIu64 " %s)",
			 file, r.records,
			 !strcmp(format, "csv") ? "lines" : "events");
		ret = RP_EXIT_USAGE;
		goto out;
	}
	unsigned int fold = o.threads;
	unsigned int nthr = r.nthr;
	if (fold && fold < nthr)
		nthr = fold;
	if (nthr > RP_MAX_THREADS) {
		wl_error(&o, "%s: %u threads, more than %d: fold them with "
			 "--threads N", file, r.nthr, RP_MAX_THREADS);
		ret = RP_EXIT_USAGE;
		goto out;
	}
	o.threads = nthr;

	ret = RP_EXIT_FAIL;
	rp.r = &r;
	rp.touch = touch;
	atomic_init(&rp.waits, 0);
	atomic_init(&rp.errnum, 0);
	if (rp_split(&r, &rp, nthr) != 0) {
		wl_error(&o, "out of memory");
		goto out;
	}
	free(r.gops);               /* the replay lists hold it all now */
	r.gops = NULL;

	if (wl_apply_opts(&o) != 0) {
		ret = RP_EXIT_USAGE;        /* a value the library refused */
		goto out;
	}
	wl_run_init(&run, &o);
	for (unsigned int c = 0; c < RP_NCACHES; c++) {
		char name[KMC_NAME_LEN];
		if (!r.cls[c].allocs)
			continue;
		snprintf(name, sizeof(name), "replay-%zu", rp_class_size(c));
		rp.kc[c] = wl_cache_create(&o, name, rp_class_size(c), 0);
		if (!rp.kc[c])
			goto out;
		wl_run_add_cache(&run, rp.kc[c]);
	}
	if (r.cls[RP_LARGE].allocs)
		rp.large = arena_kpages();

	wl_progress(&o, "%s (%s): %" PRIu64 " operations in %u threads, "
		    "read in %.2f s", file, format, r.nslots + r.frees,
		    nthr, t_read);
	struct rp_report rr = { .r = &r, .rp = &rp, .repeat = repeat,
				.touch = touch };
	for (unsigned int k = 0; k < repeat && !run.failed; k++) {
		if (k > 0)
			rp_cleanup(&rp);
		wl_run_threads(&run, nthr, rp_worker, &rp);
	}
	if (run.failed) {
		int e = atomic_load(&rp.errnum);
		wl_error(&o, "replay failed: %s", e ? strerror(e)
						    : "a thread could not run");
	}
	/* The result even after a failure ("failed": true), as the other
	 * subcommands do. */
	if (wl_report(&run, "replay", rp_json_params, rp_json_extra, &rr) != 0 ||
	    run.failed)
		goto out_clean;

	/* The summary line of the input. */
	if (!strcmp(format, "csv"))
		fprintf(stderr, "%s: %s: csv, %" PRIu64 " lines, ", o.cmd, file,
			r.records);
	else
		fprintf(stderr, "%s: %s: ctf (%" PRIu64 " trace dirs), %" PRIu64
			" events (%" PRIu64 " libc), %" PRIu64 " discarded "
			"events%s, %" PRIu64 " discarded packets, ", o.cmd, file,
			r.trace_dirs, r.records, r.libc_events,
			r.discarded_events,
			r.discarded_unknown ? " (and some of unknown count)" : "",
			r.discarded_packets);
	fprintf(stderr, "%u threads, %" PRIu64 " allocs, %" PRIu64 " frees "
		"(%" PRIu64 " cross-thread, %" PRIu64 " waited), %" PRIu64
		" reallocs, %" PRIu64 " unpaired frees skipped, %" PRIu64
		" double frees skipped, %" PRIu64 " orphaned, %" PRIu64
		" live at end\n", r.nthr, r.allocs, r.frees, r.xthread_frees,
		(uint64_t)atomic_load(&rp.waits), r.reallocs, r.unpaired,
		r.double_frees, r.orphaned, r.live);
	if (r.discarded_events || r.discarded_unknown || r.discarded_packets)
		fprintf(stderr, "%s: warning: the trace lost %" PRIu64 " events%s"
			" and %" PRIu64 " packets: what was replayed is not the "
			"program's whole allocation sequence\n", o.cmd,
			r.discarded_events,
			r.discarded_unknown ? " (and more, of unknown count)" : "",
			r.discarded_packets);
	if (!strcmp(format, "ctf") && !r.has_vtid)
		fprintf(stderr, "%s: note: the trace has no vtid context: "
			"replayed as one thread\n", o.cmd);
	if (!strcmp(format, "ctf") && !r.has_vpid)
		fprintf(stderr, "%s: note: the trace has no vpid context: "
			"pointers of different processes are not told "
			"apart\n", o.cmd);
	ret = 0;
out_clean:
	rp_cleanup(&rp);
out:
	for (unsigned int c = 0; c < RP_NCACHES; c++)
		if (rp.kc[c] && kmem_cache_destroy(rp.kc[c]) != 0 && !ret)
			ret = RP_EXIT_FAIL;
	if (rp.thr)
		for (unsigned int t = 0; t < rp.nthr; t++)
			free(rp.thr[t].ops);
	free(rp.thr);
	rp_free_all(&r);
	return ret;
}
