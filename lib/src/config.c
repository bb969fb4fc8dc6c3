/*
 * config.c — process-wide defaults: environment parsing and the setters.
 *
 * Owns: the_config (the current defaults) under config_lock, and the
 * messages about bad environment values found by the once-init, kept until
 * one caller reports them.
 *
 * Invariants: see config.h; every value stored in the_config has been
 * validated.  The environment is read once per process (env_once);
 * magslab_config_parse_env() reads it again only into the caller's struct.
 *
 * Locking: config_lock is a leaf and is never held while reporting.  The
 * once-init reports nothing itself (a pthread_once body is a lock in
 * disguise: an error handler calling magslab_config_get() from inside it
 * would deadlock); config_ensure() reports its messages afterwards.
 */
#include "config.h"

#include "cpu.h"
#include "error.h"
#include "fork.h"
#include "policy.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CONFIG_NR_VARS 7        /* environment variables we read */
#define SHOW_LEN       48       /* bytes of a bad value quoted in a message */

static pthread_mutex_t config_lock = PTHREAD_MUTEX_INITIALIZER;
static struct magslab_config the_config;

static pthread_once_t env_once = PTHREAD_ONCE_INIT;
static struct ms_err env_errs[CONFIG_NR_VARS];
static int env_nr_errs;
static atomic_bool env_errs_reported;

void magslab_config_defaults(struct magslab_config *out)
{
	unsigned int n = magslab_online_cpus();

	memset(out, 0, sizeof(*out));
	out->resize_threshold = MAGSLAB_DEFAULT_RESIZE_THRESHOLD;
	out->resize_timeout_ns = MAGSLAB_DEFAULT_RESIZE_TIMEOUT_NS;
	snprintf(out->policy, sizeof(out->policy), "%s",
		 MAGSLAB_DEFAULT_POLICY);
	out->ncpus = n > MAGSLAB_MAX_NCPUS ? MAGSLAB_MAX_NCPUS : n;
	out->pcc_map = MAGSLAB_PCC_BY_CPU;
	out->pcc_mode = MAGSLAB_PCC_MODE_AUTO;
	out->debug = 0;
}

/* A printable, bounded copy of an environment value for a message: control
 * and non-ASCII bytes become '?', long values end in "...". */
static void show_value(char *buf, size_t len, const char *val)
{
	size_t i, n = strlen(val);
	size_t max = len - 4;           /* room for "..." and the NUL */

	for (i = 0; i < n && i < max; i++) {
		unsigned char c = (unsigned char)val[i];

		buf[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	buf[i] = '\0';
	if (n > max)
		memcpy(buf + i, "...", 4);
}

/* Unsigned decimal, optional blanks around it, no sign, no overflow. */
static bool parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE || end == s)
		return false;
	while (*end == ' ' || *end == '\t')
		end++;
	if (*end != '\0')
		return false;
	*out = (uint64_t)v;
	return true;
}

/* The value of an environment variable, or NULL if unset or empty. */
static const char *env_value(const char *name)
{
	const char *v = getenv(name);

	return (v && *v) ? v : NULL;
}

static void bad_value(struct ms_err *errs, int *nr, const char *var,
		      const char *val, const char *why, const char *dflt)
{
	char shown[SHOW_LEN];

	show_value(shown, sizeof(shown), val);
	ms_err_set(&errs[(*nr)++], EINVAL, "%s='%s': %s; using %s", var, shown,
		   why, dflt);
}

/* The resize tunables (threshold, timeout, policy) into out. */
static void parse_env_tunables(struct magslab_config *out,
			       struct ms_err *errs, int *nrp)
{
	char dflt[32];
	const char *v;
	uint64_t u;
	int nr = *nrp;


	if ((v = env_value("MAGSLAB_RESIZE_THRESHOLD"))) {
		if (parse_u64(v, &u)) {
			out->resize_threshold = u;
		} else {
			snprintf(dflt, sizeof(dflt), "%llu",
				 (unsigned long long)out->resize_threshold);
			bad_value(errs, &nr, "MAGSLAB_RESIZE_THRESHOLD", v,
				  "not a number in 0..18446744073709551615",
				  dflt);
		}
	}

	if ((v = env_value("MAGSLAB_RESIZE_TIMEOUT_NS"))) {
		if (parse_u64(v, &u)) {
			out->resize_timeout_ns = u;
		} else {
			snprintf(dflt, sizeof(dflt), "%llu",
				 (unsigned long long)out->resize_timeout_ns);
			bad_value(errs, &nr, "MAGSLAB_RESIZE_TIMEOUT_NS", v,
				  "not a number of nanoseconds in "
				  "0..18446744073709551615", dflt);
		}
	}

	if ((v = env_value("MAGSLAB_POLICY"))) {
		if (strlen(v) < sizeof(out->policy) && policy_by_name(v)) {
			snprintf(out->policy, sizeof(out->policy), "%s", v);
		} else {
			char why[128];

			snprintf(why, sizeof(why), "not one of %s",
				 policy_names());
			bad_value(errs, &nr, "MAGSLAB_POLICY", v, why,
				  out->policy);
		}
	}
	*nrp = nr;
}

/* The pcc settings (slots, map, mode) and debug into out. */
static void parse_env_pccs(struct magslab_config *out, struct ms_err *errs,
			   int *nrp)
{
	char dflt[32];
	const char *v;
	uint64_t u;
	int nr = *nrp;

	if ((v = env_value("MAGSLAB_NCPUS"))) {
		if (parse_u64(v, &u) && u >= 1 && u <= MAGSLAB_MAX_NCPUS) {
			out->ncpus = (unsigned int)u;
		} else {
			snprintf(dflt, sizeof(dflt), "%u", out->ncpus);
			bad_value(errs, &nr, "MAGSLAB_NCPUS", v,
				  "not a number in 1..4096", dflt);
		}
	}

	if ((v = env_value("MAGSLAB_PCC_MAP"))) {
		if (!strcasecmp(v, "cpu"))
			out->pcc_map = MAGSLAB_PCC_BY_CPU;
		else if (!strcasecmp(v, "thread"))
			out->pcc_map = MAGSLAB_PCC_BY_THREAD;
		else
			bad_value(errs, &nr, "MAGSLAB_PCC_MAP", v,
				  "not cpu or thread", "cpu");
	}

	if ((v = env_value("MAGSLAB_PCC_MODE"))) {
		if (!strcasecmp(v, "auto"))
			out->pcc_mode = MAGSLAB_PCC_MODE_AUTO;
		else if (!strcasecmp(v, "locked"))
			out->pcc_mode = MAGSLAB_PCC_MODE_LOCKED;
		else if (!strcasecmp(v, "rseq"))
			out->pcc_mode = MAGSLAB_PCC_MODE_RSEQ;
		else
			bad_value(errs, &nr, "MAGSLAB_PCC_MODE", v,
				  "not auto, locked or rseq", "auto");
	}

	if ((v = env_value("MAGSLAB_DEBUG"))) {
		if (parse_u64(v, &u) && u <= 1)
			out->debug = (int)u;
		else
			bad_value(errs, &nr, "MAGSLAB_DEBUG", v, "not 0 or 1",
				  "0");
	}
	*nrp = nr;
}

/* Fills out from defaults + environment; messages go to errs (at least
 * CONFIG_NR_VARS entries).  Returns how many were recorded. */
static int parse_env(struct magslab_config *out, struct ms_err *errs)
{
	int nr = 0;

	magslab_config_defaults(out);
	parse_env_tunables(out, errs, &nr);
	parse_env_pccs(out, errs, &nr);
	return nr;
}

int magslab_config_parse_env(struct magslab_config *out)
{
	struct ms_err errs[CONFIG_NR_VARS];
	int nr = parse_env(out, errs);

	for (int i = 0; i < nr; i++)
		ms_err_report(&errs[i]);
	return nr;
}

static void env_init(void)
{
	struct magslab_config c;

	env_nr_errs = parse_env(&c, env_errs);
	pthread_mutex_lock(&config_lock);
	the_config = c;
	pthread_mutex_unlock(&config_lock);
}

/* Reads the environment once; the first caller after that reports what was
 * wrong with it (outside every lock, and outside the once-block). */
static void config_ensure(void)
{
	pthread_once(&env_once, env_init);
	if (env_nr_errs && !atomic_load_explicit(&env_errs_reported,
						 memory_order_relaxed) &&
	    !atomic_exchange(&env_errs_reported, true)) {
		for (int i = 0; i < env_nr_errs; i++)
			ms_err_report(&env_errs[i]);
	}
}

void magslab_config_get(struct magslab_config *out)
{
	config_ensure();
	pthread_mutex_lock(&config_lock);
	*out = the_config;
	pthread_mutex_unlock(&config_lock);
}

void config_fork_lock(void)
{
	pthread_mutex_lock(&config_lock);
}

void config_fork_unlock(void)
{
	pthread_mutex_unlock(&config_lock);
}

int magslab_set_ncpus(unsigned int nr_slots)
{
	config_ensure();
	if (nr_slots < 1 || nr_slots > MAGSLAB_MAX_NCPUS) {
		ms_error(EINVAL, "magslab_set_ncpus(%u): not in 1..%u",
			 nr_slots, MAGSLAB_MAX_NCPUS);
		return -1;
	}
	pthread_mutex_lock(&config_lock);
	the_config.ncpus = nr_slots;
	pthread_mutex_unlock(&config_lock);
	return 0;
}

int magslab_set_pcc_map(enum magslab_pcc_map map)
{
	config_ensure();
	if (map != MAGSLAB_PCC_BY_CPU && map != MAGSLAB_PCC_BY_THREAD) {
		ms_error(EINVAL,
			 "magslab_set_pcc_map(%d): not MAGSLAB_PCC_BY_CPU (%d) "
			 "or MAGSLAB_PCC_BY_THREAD (%d)", (int)map,
			 (int)MAGSLAB_PCC_BY_CPU, (int)MAGSLAB_PCC_BY_THREAD);
		return -1;
	}
	pthread_mutex_lock(&config_lock);
	the_config.pcc_map = map;
	pthread_mutex_unlock(&config_lock);
	return 0;
}

int magslab_set_pcc_mode(enum magslab_pcc_mode mode)
{
	config_ensure();
	if (mode != MAGSLAB_PCC_MODE_AUTO && mode != MAGSLAB_PCC_MODE_LOCKED &&
	    mode != MAGSLAB_PCC_MODE_RSEQ) {
		ms_error(EINVAL, "magslab_set_pcc_mode(%d): not MAGSLAB_PCC_MODE_AUTO, "
			 "_LOCKED or _RSEQ", (int)mode);
		return -1;
	}
	pthread_mutex_lock(&config_lock);
	the_config.pcc_mode = mode;
	pthread_mutex_unlock(&config_lock);
	return 0;
}

int magslab_set_debug(int on)
{
	config_ensure();
	if (on != 0 && on != 1) {
		ms_error(EINVAL, "magslab_set_debug(%d): not 0 or 1", on);
		return -1;
	}
	pthread_mutex_lock(&config_lock);
	the_config.debug = on;
	pthread_mutex_unlock(&config_lock);
	return 0;
}

int magslab_set_policy(const char *name)
{
	config_ensure();
	if (!name || !policy_by_name(name)) {
		ms_error(EINVAL, "magslab_set_policy('%s'): unknown policy (known: %s)",
			 name ? name : "(null)", policy_names());
		return -1;
	}
	pthread_mutex_lock(&config_lock);
	snprintf(the_config.policy, sizeof(the_config.policy), "%s", name);
	pthread_mutex_unlock(&config_lock);
	return 0;
}

int magslab_set_resize_threshold(uint64_t threshold)
{
	config_ensure();
	pthread_mutex_lock(&config_lock);
	the_config.resize_threshold = threshold;
	pthread_mutex_unlock(&config_lock);
	return 0;
}

int magslab_set_resize_timeout_ns(uint64_t ns)
{
	config_ensure();
	if (ns == 0) {
		ms_error(EINVAL, "magslab_set_resize_timeout_ns(0): use 1 or more");
		return -1;
	}
	pthread_mutex_lock(&config_lock);
	the_config.resize_timeout_ns = ns;
	pthread_mutex_unlock(&config_lock);
	return 0;
}
