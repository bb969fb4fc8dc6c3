/*
 * workloads/replay_csv.c — reading a CSV allocation trace into the operation list
 * (replay.h; the format: workloads/README.md, "replay").
 *
 * Two passes: every line is parsed into a record (time, thread, op, size, id; names are
 * interned), then the records, sorted by t_ns (ties in file order), are paired: an alloc
 * makes its id live, a free or realloc needs it live (else "missing pair", or with
 * --ignore-unpaired skipped and counted).  Errors name the file and line, exit status 2;
 * running out of memory is 1.
 *
 * Owns its records and maps for the length of rp_read_csv().  One thread.
 */
#include "replay.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* One data line. */
struct rp_rec {
	uint64_t t, line, size;
	uint32_t thr, id;
	uint8_t op;
};

enum { OP_ALLOC, OP_CALLOC, OP_FREE, OP_REALLOC };

static const char *const op_names[] = { "alloc", "calloc", "free", "realloc" };

/* The reader's state. */
struct csv {
	struct rp *r;
	const char *name;           /* the file, in messages */
	struct rp_smap threads, ids;
	struct rp_rec *recs;
	uint64_t nrecs, rcap;
};

static int rp_rec_cmp(const void *a, const void *b)
{
	const struct rp_rec *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

static char *rp_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
			 e[-1] == '\n'))
		*--e = '\0';
	return s;
}

static bool rp_parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

/* The header line s, with optional blanks around the names: 0, or -1 (reported). */
static int csv_header(struct csv *c, const char *s, uint64_t line)
{
	char norm[64];
	size_t k = 0;

	for (const char *p = s; *p && k < sizeof(norm) - 1; p++)
		if (*p != ' ' && *p != '\t')
			norm[k++] = *p;
	norm[k] = '\0';
	if (strcmp(norm, "t_ns,thread,op,size,id") == 0)
		return 0;
	return wl_error(c->r->o, "%s:%" PRIu64 ": expected the CSV header "
			"'t_ns,thread,op,size,id'", c->name, line);
}

/* Splits s at its commas into fld[0..5) (trimmed): 0, or -1 (reported) if not 5. */
static int csv_fields(struct csv *c, char *s, uint64_t line, char *fld[5])
{
	int nf = 0;

	for (;;) {
		char *comma = strchr(s, ',');

		if (nf < 5)
			fld[nf] = s;
		nf++;
		if (!comma)
			break;
		*comma = '\0';
		s = comma + 1;
	}
	if (nf != 5)
		return wl_error(c->r->o, "%s:%" PRIu64 ": expected 5 fields "
				"(t_ns,thread,op,size,id), found %d", c->name, line, nf);
	for (int i = 0; i < 5; i++)
		fld[i] = rp_trim(fld[i]);
	return 0;
}

/* The op and size fields into rec: 0, or -1 (reported). */
static int csv_op_size(struct csv *c, char *const fld[5], struct rp_rec *rec)
{
	const struct wl_opts *o = c->r->o;
	unsigned int k;

	for (k = 0; k < 4 && strcmp(fld[2], op_names[k]) != 0; k++)
		;
	if (k == 4 && strcmp(fld[2], "malloc") != 0)
		return wl_error(o, "%s:%" PRIu64 ": op '%s' is not alloc, calloc, free or "
				"realloc", c->name, rec->line, fld[2]);
	rec->op = (uint8_t)(k == 4 ? OP_ALLOC : k);
	if (rec->op == OP_FREE && !*fld[3])
		return 0; /* a free's size may be empty */
	if (!rp_parse_u64(fld[3], &rec->size))
		return wl_error(o, "%s:%" PRIu64 ": size '%s' is not a non-negative integer",
				c->name, rec->line, fld[3]);
	if (rec->size > RP_MAX_SIZE)
		return wl_error(o, "%s:%" PRIu64 ": size %" PRIu64 " is above the limit of %"
				PRIu64, c->name, rec->line, rec->size, RP_MAX_SIZE);
	return 0;
}

/* A data line s into a record: 0, -1 (reported), or RP_NOMEM. */
static int csv_record(struct csv *c, char *s, uint64_t line)
{
	struct rp_rec rec = { .line = line };
	char *fld[5];
	bool added;

	if (csv_fields(c, s, line, fld) != 0)
		return -1;
	if (!rp_parse_u64(fld[0], &rec.t))
		return wl_error(c->r->o, "%s:%" PRIu64 ": t_ns '%s' is not a non-negative "
				"integer", c->name, line, fld[0]);
	if (*fld[1] == '\0')
		return wl_error(c->r->o, "%s:%" PRIu64 ": empty thread", c->name, line);
	if (csv_op_size(c, fld, &rec) != 0)
		return -1;
	if (*fld[4] == '\0')
		return wl_error(c->r->o, "%s:%" PRIu64 ": empty id", c->name, line);
	if (rp_smap_intern(&c->threads, fld[1], strlen(fld[1]), &rec.thr, &added) != 0 ||
	    rp_smap_intern(&c->ids, fld[4], strlen(fld[4]), &rec.id, &added) != 0 ||
	    rp_grow((void **)&c->recs, &c->rcap, c->nrecs + 1, sizeof(*c->recs)))
		return RP_NOMEM;
	c->recs[c->nrecs++] = rec;
	return 0;
}

/* Every line of f into records: 0, -1 (reported), or RP_NOMEM. */
static int csv_read_lines(struct csv *c, FILE *f)
{
	char *buf = NULL;
	size_t bufsz = 0;
	uint64_t line = 0;
	bool header = false;
	ssize_t len;
	int ret = 0;

	while (ret == 0) {
		char *s;

		errno = 0;
		len = getline(&buf, &bufsz, f);
		if (len < 0) {
			if (ferror(f))
				ret = wl_error(c->r->o, "%s: read error: %s", c->name,
					       strerror(errno ? errno : EIO));
			break;
		}
		line++;
		if ((size_t)len != strlen(buf)) {
			ret = wl_error(c->r->o, "%s:%" PRIu64 ": NUL byte in line", c->name,
				       line);
			break;
		}
		s = rp_trim(buf);
		if (*s == '\0' || *s == '#')
			continue;
		if (!header) {
			ret = csv_header(c, s, line);
			header = true;
			continue;
		}
		ret = csv_record(c, s, line);
		if (ret == 0 && (++c->r->records & 0xffff) == 0)
			rp_progress(c->r, "lines");
	}
	free(buf);
	if (ret == 0 && !header)
		ret = wl_error(c->r->o, "%s: empty: no CSV header 't_ns,thread,op,size,id'",
			       c->name);
	return ret;
}

/* A free or realloc of an id that is not live (*st: never seen, or freed). */
static int csv_unpaired(struct csv *c, const struct rp_rec *rec, uint64_t *st)
{
	struct rp *r = c->r;
	bool dead = *st == ST_DEAD;

	if (!r->ignore_unpaired)
		return wl_error(r->o, "%s:%" PRIu64 ": missing pair: %s of id '%s', which %s "
				"(--ignore-unpaired skips it)", c->name, rec->line,
				op_names[rec->op], c->ids.keys[rec->id],
				dead ? "was already freed" : "was never allocated");
	if (dead)
		r->double_frees++;
	else
		r->unpaired++;
	return rec->op == OP_REALLOC ? rp_do_alloc(r, rec->thr, st, rec->size, false) : RP_OK;
}

/* One record, in time order, against its id's state *st: RP_OK, an rp_err, or -1. */
static int csv_apply(struct csv *c, const struct rp_rec *rec, uint64_t *st)
{
	struct rp *r = c->r;

	switch (rec->op) {
	case OP_ALLOC:
	case OP_CALLOC:
		if (*st >= ST_LIVE0)
			return wl_error(r->o, "%s:%" PRIu64 ": id '%s' allocated again before "
					"it was freed", c->name, rec->line, c->ids.keys[rec->id]);
		return rp_do_alloc(r, rec->thr, st, rec->size, rec->op == OP_CALLOC);
	default:
		if (*st < ST_LIVE0)
			return csv_unpaired(c, rec, st);
		if (rec->op == OP_FREE)
			return rp_do_free(r, rec->thr, st);
		return rp_do_realloc(r, rec->thr, st, st, rec->size);
	}
}

/* The records in time order into the operation list: 0, -1 (reported), or RP_NOMEM. */
static int csv_pair(struct csv *c)
{
	struct rp *r = c->r;
	uint64_t *state = calloc(c->ids.n ? c->ids.n : 1, sizeof(*state));
	int rc = 0;

	if (!state)
		return RP_NOMEM;
	qsort(c->recs, c->nrecs, sizeof(*c->recs), rp_rec_cmp);
	for (uint64_t i = 0; i < c->nrecs && rc == 0; i++) {
		rc = csv_apply(c, &c->recs[i], &state[c->recs[i].id]);
		if (rc == RP_LIMIT)
			rc = wl_error(r->o, "%s:%" PRIu64 ": too many objects", c->name,
				      c->recs[i].line);
	}
	free(state);
	return rc;
}

int rp_read_csv(struct rp *r, FILE *f)
{
	struct csv c = { .r = r, .name = r->file };
	int rc = csv_read_lines(&c, f);
	uint32_t idx;

	/* Threads in order of first appearance in the file. */
	for (uint64_t i = 0; rc == 0 && i < c.threads.n; i++)
		rc = rp_add_thread(r, c.threads.keys[i], &idx) ? RP_NOMEM : 0;
	if (rc == 0)
		rc = csv_pair(&c);
	free(c.recs);
	rp_smap_free(&c.threads);
	rp_smap_free(&c.ids);
	if (rc == RP_NOMEM) {
		wl_error(r->o, "%s: out of memory reading the trace", r->file);
		return RP_EXIT_FAIL;
	}
	return rc ? RP_EXIT_USAGE : 0;
}
