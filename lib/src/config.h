/*
 * config.h — process-wide defaults for caches created from now on.
 *
 * Owns: one struct magslab_config (the defaults) behind a mutex.  It is
 * filled from the environment exactly once per process, on the first
 * magslab_config_get() or process-wide setter, and afterwards changed only by
 * the setters of magslab/slab.h (magslab_set_ncpus, magslab_set_pcc_map,
 * magslab_set_pcc_mode, magslab_set_debug).  A cache copies what it needs at creation; changing a
 * default never touches an existing cache (the kmem_cache_set_* calls do).
 *
 * Environment (all optional; an empty value counts as unset):
 *   MAGSLAB_RESIZE_THRESHOLD   unsigned 64-bit decimal      default 1
 *   MAGSLAB_RESIZE_TIMEOUT_NS  unsigned 64-bit decimal      default 1000000000
 *   MAGSLAB_POLICY             akaros | illumos | uma | adaptive   (akaros)
 *   MAGSLAB_NCPUS              1..4096 pcc slots            default online CPUs
 *   MAGSLAB_PCC_MAP            cpu | thread                 default cpu
 *   MAGSLAB_PCC_MODE           auto | locked | rseq         default auto
 *   MAGSLAB_DEBUG              0 | 1                        default 0
 * A bad value is reported as one line through the error handler (EINVAL),
 * e.g. "MAGSLAB_NCPUS='abc': not a number in 1..4096; using 2", and the
 * default is kept; the other variables are still used.
 *
 * Invariants: 1 <= ncpus <= MAGSLAB_MAX_NCPUS; pcc_map is one of the enum's
 * values; so is pcc_mode; debug is 0 or 1; policy is a NUL-terminated name that
 * policy_by_name() knows.
 *
 * Locking: config_lock (config.c) is a leaf, held only to copy or change
 * the struct; nothing is reported while it is held.  The environment is read
 * under pthread_once; the messages about bad values are reported after the
 * once-block, by exactly one caller, so an error handler may itself call
 * magslab_config_get() without deadlocking.
 */
#ifndef MAGSLAB_CONFIG_H
#define MAGSLAB_CONFIG_H

#include <magslab/slab.h>

#include <stdint.h>

#define MAGSLAB_MAX_NCPUS                 4096u
#define MAGSLAB_DEFAULT_RESIZE_THRESHOLD  1ull
#define MAGSLAB_DEFAULT_RESIZE_TIMEOUT_NS 1000000000ull
#define MAGSLAB_DEFAULT_POLICY            "akaros"
#define MAGSLAB_POLICY_NAME_LEN           16

struct magslab_config {
	uint64_t resize_threshold;
	uint64_t resize_timeout_ns;
	char policy[MAGSLAB_POLICY_NAME_LEN];
	unsigned int ncpus;               /* pcc slots for new caches */
	enum magslab_pcc_map pcc_map;
	enum magslab_pcc_mode pcc_mode;
	int debug;                        /* 0 | 1: KMC_DEBUG on new caches */
};

/* A snapshot of the current defaults (reads the environment on first use). */
void magslab_config_get(struct magslab_config *out);

/* Fills out with the built-in defaults, then applies the environment,
 * reporting each bad value (EINVAL) and keeping its default.  Returns the
 * number of bad values.  The once-init uses the same parser; this entry point
 * exists so tests can parse again after setenv(). */
int magslab_config_parse_env(struct magslab_config *out);

/* The built-in defaults alone (ncpus: online CPUs, at most 4096). */
void magslab_config_defaults(struct magslab_config *out);

#endif /* MAGSLAB_CONFIG_H */
