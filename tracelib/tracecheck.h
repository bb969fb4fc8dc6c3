/*
 * tracelib/tracecheck.h — checks of a CTF trace directory's files before babeltrace2 reads
 * them: what a damaged trace looks like from the outside (docs/report.md, "Damaged
 * traces").  Part of the trace-reading library: trace discovery (discover.c) runs them on
 * every trace directory it finds, for the front end (analysis/) and magslab-workload
 * replay (workloads/) alike; plain C, no babeltrace2, no state.
 *
 * What it owns: the *framing* of the files LTTng writes, never their contents (decoding
 * stays with babeltrace2):
 *
 *   - packetized metadata (`metadata`): a sequence of packets, each with a 37-byte header
 *     (magic 0x75D11D57 in the tracer's byte order, trace UUID, checksum, content_size and
 *     packet_size in bits, compression/encryption/checksum schemes, major.minor 1.8).
 *     babeltrace2 2.0.4 loops forever on a metadata file cut inside a packet, so a cut is
 *     refused here, before it is handed over.  Plain-text metadata (TSDL text, no packets) is not
 *     framed: nothing to check.
 *   - the LTTng index files (`index/STREAM.idx`, lttng-tools' ctf-index.h): a big-endian
 *     header (magic 0xC1F1DCC1, major, minor, entry length) and one entry per packet
 *     (offset, packet_size and content_size in bits, timestamp_begin/end, events_discarded,
 *     stream_id, then in 1.1 stream_instance_id, packet_seq_num).  Each stream file is
 *     compared with its index: a stream that is missing or shorter than indexed has lost
 *     data; an index that does not hold together is damaged.
 *
 * Findings are one-line messages (no trailing newline, no program prefix).
 */
#ifndef MAGSLAB_TRACELIB_TRACECHECK_H
#define MAGSLAB_TRACELIB_TRACECHECK_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The framing of the metadata file at path: 0 complete (or not packetized), -1 with the
 * reason in err (empty, cut inside a packet, a packet header that is not one).  With
 * $MAGSLAB_SKIP_METADATA_CHECK set (tests of the stall watchdog only), always 0.
 */
int tc_check_metadata(const char *path, char *err, size_t errlen);

/* What tc_check_streams found: each a one-line message (malloc'd). */
struct tc_findings {
	char **msg;
	size_t n;
};

/*
 * Compares every stream file of trace directory dir with its index (dir/index/NAME.idx):
 * appends a finding for each stream that is missing or shorter than its index says (lost
 * data) and for each index file that is damaged.  A stream without an index file is not
 * checked.  rel: how dir is named in the messages (e.g. the path below the TRACE
 * argument); NULL for dir itself.  Returns the number of findings appended.
 */
size_t tc_check_streams(const char *dir, const char *rel, struct tc_findings *f);

void tc_findings_free(struct tc_findings *f);

#endif /* MAGSLAB_TRACELIB_TRACECHECK_H */
