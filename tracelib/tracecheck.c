/*
 * tracelib/tracecheck.c — the framing checks of a trace directory's files (tracecheck.h):
 * packetized metadata, and stream files against their LTTng index.  Reads files, keeps no
 * state, never decodes CTF.
 */
#include "tracecheck.h"
#include "tl_util.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- packetized metadata ---------------------------------------------------------------- */

#define TC_META_MAGIC 0x75D11D57u
#define TC_META_HDR 37 /* magic 4, uuid 16, checksum 4, content 4, packet 4, schemes 3, version 2 */

struct meta_hdr {
	uint8_t uuid[16];
	uint32_t content_bits, packet_bits;
	uint8_t compression, encryption, checksum, major, minor;
};

static uint32_t get32(const uint8_t *p, bool swap)
{
	uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		     (uint32_t)p[3] << 24;

	return swap ? __builtin_bswap32(v) : v;
}

static void meta_parse(const uint8_t *b, bool swap, struct meta_hdr *h)
{
	memcpy(h->uuid, b + 4, 16);
	h->content_bits = get32(b + 24, swap);
	h->packet_bits = get32(b + 28, swap);
	h->compression = b[32];
	h->encryption = b[33];
	h->checksum = b[34];
	h->major = b[35];
	h->minor = b[36];
}

/*
 * The packet header at offset off of a file of size bytes (b: its 37 bytes, uuid: the
 * first packet's).  0, or -1 with err.
 */
static int meta_packet(const char *path, const uint8_t *b, bool swap, const uint8_t *uuid,
		       uint64_t off, uint64_t size, uint64_t *next, char *err, size_t errlen)
{
	struct meta_hdr h;

	if (get32(b, swap) != TC_META_MAGIC) {
		tl_seterr(err, errlen, "%s: damaged metadata: no packet magic at offset %" PRIu64, path,
			off);
		return -1;
	}
	meta_parse(b, swap, &h);
	if (uuid && memcmp(uuid, h.uuid, 16) != 0) {
		tl_seterr(err, errlen, "%s: damaged metadata: the packet at offset %" PRIu64
			" has another trace UUID", path, off);
		return -1;
	}
	if (h.compression || h.encryption || h.checksum || h.major != 1 || h.minor != 8 ||
	    h.content_bits % 8 || h.packet_bits % 8 || h.content_bits < TC_META_HDR * 8 ||
	    h.packet_bits < h.content_bits) {
		tl_seterr(err, errlen, "%s: damaged metadata: the packet header at offset %" PRIu64
			" is not valid (content %" PRIu32 " bits, packet %" PRIu32 " bits, CTF %u.%u)",
			path, off, h.content_bits, h.packet_bits, h.major, h.minor);
		return -1;
	}
	if (off + h.content_bits / 8 > size) {
		tl_seterr(err, errlen, "%s: truncated metadata: the packet at offset %" PRIu64
			" has %" PRIu64 " of its %" PRIu32 " bytes", path, off, size - off,
			h.content_bits / 8);
		return -1;
	}
	*next = off + h.packet_bits / 8;
	return 0;
}

/* Reads the whole file at path (at most 256 MiB).  NULL with err. */
static uint8_t *read_all(const char *path, uint64_t *size, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	struct stat sb;
	uint8_t *buf;

	if (!f || fstat(fileno(f), &sb) != 0) {
		tl_seterr(err, errlen, "%s: %s", path, strerror(errno));
		if (f)
			fclose(f);
		return NULL;
	}
	if (sb.st_size > (256 << 20)) {
		tl_seterr(err, errlen, "%s: metadata of %lld bytes: too large", path,
			(long long)sb.st_size);
		fclose(f);
		return NULL;
	}
	*size = (uint64_t)sb.st_size;
	buf = malloc(*size ? *size : 1);
	if (!buf || fread(buf, 1, *size, f) != *size) {
		tl_seterr(err, errlen, "%s: %s", path, buf ? "short read" : "out of memory");
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

int tc_check_metadata(const char *path, char *err, size_t errlen)
{
	uint64_t size = 0, off = 0, next;
	uint8_t *b;
	bool swap;
	int ret = 0;

	if (getenv("MAGSLAB_SKIP_METADATA_CHECK"))
		return 0; /* tests of the stall watchdog: let babeltrace2 hang */
	b = read_all(path, &size, err, errlen);
	if (!b)
		return -1;
	if (size == 0) {
		tl_seterr(err, errlen, "%s: truncated metadata: the file is empty", path);
		free(b);
		return -1;
	}
	if (size < 4 || (get32(b, false) != TC_META_MAGIC && get32(b, true) != TC_META_MAGIC)) {
		free(b);
		return 0; /* not packetized: TSDL text, babeltrace2 reads it as such */
	}
	swap = get32(b, false) != TC_META_MAGIC;
	while (off < size && ret == 0) {
		if (size - off < TC_META_HDR) {
			tl_seterr(err, errlen, "%s: truncated metadata: the packet at offset %" PRIu64
				" has %" PRIu64 " of its 37 header bytes", path, off, size - off);
			ret = -1;
			break;
		}
		ret = meta_packet(path, b + off, swap, off ? b + 4 : NULL, off, size, &next, err,
				  errlen);
		off = next;
	}
	free(b);
	return ret;
}

/* ---- streams and their index ------------------------------------------------------------ */

#define TC_IDX_MAGIC 0xC1F1DCC1u
#define TC_IDX_HDR 16
#define TC_IDX_ENTRY_MIN 56 /* CTF index 1.0: seven 64-bit fields */

static uint64_t be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void add(struct tc_findings *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct tc_findings *f, const char *fmt, ...)
{
	char buf[1024], **v;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	v = tl_xrealloc(f->msg, (f->n + 1) * sizeof(*v));
	v[f->n] = tl_xstrdup(buf);
	f->msg = v;
	f->n++;
}

/* What an index says about its stream. */
struct idx_sum {
	uint64_t packets, bytes; /* the packets indexed, and their total size */
	uint64_t discarded;      /* the last entry's events_discarded (the stream's total) */
};

/*
 * Walks the entries of index b (size bytes): offsets contiguous from 0, content within
 * packet, timestamps in order.  0 (*s filled), or -1 with why.
 */
static int idx_walk(const uint8_t *b, uint64_t size, struct idx_sum *s, char *why, size_t len)
{
	uint64_t elen, n, i, prev_begin = 0;

	if (size < TC_IDX_HDR || be(b, 4) != TC_IDX_MAGIC || be(b + 4, 4) != 1) {
		tl_seterr(why, len, "no CTF index 1.x header");
		return -1;
	}
	elen = be(b + 12, 4);
	if (elen < TC_IDX_ENTRY_MIN || elen > 4096 || (size - TC_IDX_HDR) % elen) {
		tl_seterr(why, len, "entries of %" PRIu64 " bytes do not fill its %" PRIu64 " bytes",
			elen, size);
		return -1;
	}
	n = (size - TC_IDX_HDR) / elen;
	memset(s, 0, sizeof(*s));
	for (i = 0; i < n; i++) {
		const uint8_t *e = b + TC_IDX_HDR + i * elen;
		uint64_t off = be(e, 8), psize = be(e + 8, 8), csize = be(e + 16, 8);
		uint64_t tb = be(e + 24, 8), te = be(e + 32, 8);

		if (off != s->bytes || psize % 8 || psize == 0 || csize > psize || tb > te ||
		    tb < prev_begin) {
			tl_seterr(why, len, "entry %" PRIu64 " (offset %" PRIu64 ", packet %" PRIu64
				" bits, content %" PRIu64 " bits) does not follow entry %" PRIu64,
				i, off, psize, csize, i ? i - 1 : 0);
			return -1;
		}
		prev_begin = tb;
		s->bytes += psize / 8;
		s->discarded = be(e + 40, 8);
		s->packets++;
	}
	return 0;
}

/* The index of stream name in dir: 1 read (*s), 0 none, -1 damaged (finding added). */
static int read_index(const char *dir, const char *shown, const char *name, struct idx_sum *s,
		      struct tc_findings *f)
{
	char path[PATH_MAX], err[512], why[512];
	uint64_t size;
	uint8_t *b;
	struct stat sb;
	int r;

	snprintf(path, sizeof(path), "%s/index/%s.idx", dir, name);
	if (stat(path, &sb) != 0)
		return 0;
	b = read_all(path, &size, err, sizeof(err));
	if (!b) {
		add(f, "%s/index/%s.idx cannot be read: %s", shown, name, err);
		return -1;
	}
	r = idx_walk(b, size, s, why, sizeof(why));
	free(b);
	if (r) {
		add(f, "damaged index %s/index/%s.idx: %s", shown, name, why);
		return -1;
	}
	return 1;
}

/* The stream name of dir against its index. */
static void check_stream(const char *dir, const char *shown, const char *name, bool present,
			 uint64_t size, struct tc_findings *f)
{
	struct idx_sum s;

	if (read_index(dir, shown, name, &s, f) <= 0)
		return;
	if (!present)
		add(f, "lost data: stream %s/%s is missing; its index lists %" PRIu64
		    " packet%s (%" PRIu64 " bytes)", shown, name, s.packets,
		    s.packets == 1 ? "" : "s", s.bytes);
	else if (size < s.bytes)
		add(f, "lost data: stream %s/%s has %" PRIu64 " of the %" PRIu64 " bytes its index "
		    "lists (%" PRIu64 " packet%s)", shown, name, size, s.bytes, s.packets,
		    s.packets == 1 ? "" : "s");
}

/* A stream file: a regular file other than metadata, not hidden. */
static bool is_stream(const char *dir, const char *name, uint64_t *size)
{
	char path[PATH_MAX];
	struct stat sb;

	if (name[0] == '.' || strcmp(name, "metadata") == 0)
		return false;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
		return false;
	*size = (uint64_t)sb.st_size;
	return true;
}

/* Index files whose stream file is gone. */
static void check_orphans(const char *dir, const char *shown, struct tc_findings *f)
{
	char idir[PATH_MAX], name[NAME_MAX + 1];
	struct dirent *de;
	uint64_t size;
	DIR *d;

	snprintf(idir, sizeof(idir), "%s/index", dir);
	d = opendir(idir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);

		if (l <= 4 || strcmp(de->d_name + l - 4, ".idx") != 0 || de->d_name[0] == '.')
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(l - 4), de->d_name);
		if (!is_stream(dir, name, &size))
			check_stream(dir, shown, name, false, 0, f);
	}
	closedir(d);
}

static int cmp_msg(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t tc_check_streams(const char *dir, const char *rel, struct tc_findings *f)
{
	const char *shown = rel && *rel ? rel : dir;
	size_t before = f->n;
	struct dirent *de;
	uint64_t size;
	DIR *d = opendir(dir);

	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (is_stream(dir, de->d_name, &size))
			check_stream(dir, shown, de->d_name, true, size, f);
	closedir(d);
	check_orphans(dir, shown, f);
	if (f->n > before) /* readdir order varies: a stable report */
		qsort(f->msg + before, f->n - before, sizeof(*f->msg), cmp_msg);
	return f->n - before;
}

void tc_findings_free(struct tc_findings *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->msg[i]);
	free(f->msg);
	f->msg = NULL;
	f->n = 0;
}
