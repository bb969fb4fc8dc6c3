/*
 * tracelib/errors.c — babeltrace2's error causes as one line for the user (mg_take_error,
 * graph.h), and all of them on stderr when asked.  Owns nothing: each call takes the
 * current thread's error and releases it.
 */
#include "graph.h"

#include <stdio.h>
#include <string.h>

/*
 * At s, a babeltrace2 "NAME-addr=0x1234" (plus ", " after it): its length, else 0.  Object
 * addresses mean nothing to a user.
 */
static size_t addr_field(const char *s)
{
	const char *p = s;

	while ((*p >= 'a' && *p <= 'z') || *p == '-')
		p++;
	if (p - s < 5 || strncmp(p - 5, "-addr", 5) != 0 || strncmp(p, "=0x", 3) != 0)
		return 0;
	p += 3;
	while ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))
		p++;
	if (p[0] == ',' && p[1] == ' ')
		p += 2;
	return (size_t)(p - s);
}

/*
 * Copies s into buf on one line: newlines, tabs and runs of blanks become one space;
 * "NAME-addr=0x..." fields are left out.
 */
static void one_line(char *buf, size_t len, const char *s)
{
	size_t o = 0, skip;
	int blank = 0;

	if (!len)
		return;
	for (; *s && o + 1 < len; s++) {
		if ((s[0] >= 'a' && s[0] <= 'z') && (o == 0 || blank || buf[o - 1] == ' ' ||
						      buf[o - 1] == '(' || buf[o - 1] == ',') &&
		    (skip = addr_field(s)) > 0) {
			s += skip - 1;
			continue;
		}
		if (*s == '\n' || *s == '\r' || *s == '\t' || *s == ' ') {
			blank = 1;
			continue;
		}
		if (blank && o > 0 && o + 2 < len)
			buf[o++] = ' ';
		blank = 0;
		buf[o++] = *s;
	}
	buf[o] = '\0';
}

static void print_cause(const bt_error_cause *c, bool first)
{
	const char *who = bt_error_cause_get_module_name(c);
	char actor[512] = "";

	switch (bt_error_cause_get_actor_type(c)) {
	case BT_ERROR_CAUSE_ACTOR_TYPE_COMPONENT:
		snprintf(actor, sizeof(actor), "%s: %s.%s",
			 bt_error_cause_component_actor_get_component_name(c),
			 bt_error_cause_component_actor_get_plugin_name(c)
				 ? bt_error_cause_component_actor_get_plugin_name(c)
				 : "",
			 bt_error_cause_component_actor_get_component_class_name(c));
		who = actor;
		break;
	default:
		break;
	}
	fprintf(stderr, "  %s [%s] (%s:%llu) %s\n", first ? "ERROR:    " : "CAUSED BY", who,
		bt_error_cause_get_file_name(c),
		(unsigned long long)bt_error_cause_get_line_number(c),
		bt_error_cause_get_message(c));
}

bool mg_take_error(char *buf, size_t len, const char *context, bool verbose)
{
	const bt_error *e = bt_current_thread_take_error();
	const bt_error_cause *root;
	bool from_sink = false;
	char msg[MG_ERRLEN];
	uint64_t n, i;

	if (!e || (n = bt_error_get_cause_count(e)) == 0) {
		if (e)
			bt_error_release(e);
		snprintf(buf, len, "%s", context ? context : "unknown error");
		return false;
	}
	if (verbose) {
		fputs("magslab: babeltrace2 error causes, most recent first:\n", stderr);
		for (i = n; i-- > 0;)
			print_cause(bt_error_borrow_cause_by_index(e, i), i == n - 1);
	}
	/*
	 * The root cause is the first appended (index 0).  Causes appended by the library
	 * itself ("Component class's query method failed: addr=...") only say that a
	 * component failed: the first cause of a component, message iterator or component
	 * class, or else of anything but the library, says why.
	 */
	root = NULL;
	for (i = 0; i < n && !root; i++) {
		const bt_error_cause *c = bt_error_borrow_cause_by_index(e, i);

		if (bt_error_cause_get_actor_type(c) != BT_ERROR_CAUSE_ACTOR_TYPE_UNKNOWN)
			root = c;
	}
	for (i = 0; i < n && !root; i++) {
		const bt_error_cause *c = bt_error_borrow_cause_by_index(e, i);

		if (strcmp(bt_error_cause_get_module_name(c), "libbabeltrace2") != 0)
			root = c;
	}
	if (!root) {
		bt_error_release(e);
		snprintf(buf, len, "%s", context ? context : "unknown error");
		return false;
	}
	one_line(msg, sizeof(msg), bt_error_cause_get_message(root));
	if (bt_error_cause_get_actor_type(root) == BT_ERROR_CAUSE_ACTOR_TYPE_COMPONENT &&
	    bt_error_cause_component_actor_get_component_class_type(root) ==
		    BT_COMPONENT_CLASS_TYPE_SINK)
		from_sink = true;
	if (from_sink || !context)
		snprintf(buf, len, "%s", msg);
	else
		snprintf(buf, len, "%s: %s", context, msg);
	bt_error_release(e);
	return from_sink;
}

