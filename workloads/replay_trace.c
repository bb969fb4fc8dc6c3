/*
 * workloads/replay_trace.c — the operation list of a replay (replay.h): its objects and
 * operations in global order, the size classes, what the trace held (allocs, frees,
 * reallocs, live at the end, the most live), and the two hash maps the readers pair
 * operations with (names to indices; (process, pointer) to an object's state).
 *
 * Owns the arrays of struct rp (rp_free_all frees them) and of the maps (rp_*_free).
 * One thread, no locks: the list is built before any replay thread starts.
 */
#include "replay.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- small helpers ------------------------------------------------------ */

int rp_grow(void **p, uint64_t *cap, uint64_t need, size_t elem)
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

unsigned int rp_class_of(uint64_t size)
{
	if (size <= ((uint64_t)1 << RP_MIN_SHIFT))
		return 0;
	unsigned int shift = 64 - (unsigned int)__builtin_clzll(size - 1);
	if (shift > RP_MAX_SHIFT)
		return RP_LARGE;
	return shift - RP_MIN_SHIFT;
}

size_t rp_class_size(unsigned int cls)
{
	return (size_t)1 << (cls + RP_MIN_SHIFT);
}

void rp_progress(struct rp *r, const char *what)
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

int rp_smap_intern(struct rp_smap *m, const char *s, size_t len, uint32_t *idx,
		   bool *added)
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

void rp_smap_free(struct rp_smap *m)
{
	for (uint64_t i = 0; i < m->n; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->tab);
	memset(m, 0, sizeof(*m));
}

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

uint64_t *rp_kmap_get(struct rp_kmap *m, uint64_t a, uint64_t b)
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

void rp_kmap_free(struct rp_kmap *m)
{
	free(m->tab);
	memset(m, 0, sizeof(*m));
}

/* ---- building the operation list ---------------------------------------- */

int rp_add_thread(struct rp *r, const char *name, uint32_t *idx)
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

int rp_do_alloc(struct rp *r, uint32_t thr, uint64_t *st, uint64_t size, bool zero)
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

int rp_do_free(struct rp *r, uint32_t thr, uint64_t *st)
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

int rp_do_realloc(struct rp *r, uint32_t thr, uint64_t *st_old, uint64_t *st_new,
		  uint64_t size)
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

void rp_free_all(struct rp *r)
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

