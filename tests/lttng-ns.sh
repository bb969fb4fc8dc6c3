# tests/lttng-ns.sh — sourced by the front-end test scripts (test_record.sh, test_live.sh,
# ...): run a test function in a private mount namespace where no LTTng daemon runs, and
# stop every LTTng daemon started there afterwards.
#
# Why: root's session daemon lives in /run/lttng whatever LTTNG_HOME says, and traced
# programs register with it; a test must neither use nor disturb one that someone else
# runs.  `unshare -m` + a tmpfs over /run/lttng (and /var/run/lttng if it is not the same
# directory) and over /dev/shm give the test an empty LTTng world.  Daemons outlive the
# namespace's processes, so each one seen there is noted (pid, start time, name) in
# $NS_STATE and stopped when the namespace's shell exits — and by the next run if this one
# was killed first (only a process whose pid and start time both match is signalled).
#
# Use:
#     source tests/lttng-ns.sh
#     NS_STATE=$WORK/daemons             # before calling anything below
#     ns_stop_noted quiet                # stale daemons of a killed earlier run
#     ns_run [--uts HOSTNAME] FUNCTION ARGS...   # FUNCTION in the private namespace
#
# ns_run re-executes "$NS_SELF" (default: $0) as `$NS_SELF --ns-run FUNCTION ARGS...`
# under unshare; the script must call `ns_dispatch "$@"` once its functions are defined
# (before its own argument handling), which runs
# FUNCTION in that namespace (set -e inside) when it sees --ns-run.  With --uts, the
# namespace has its own hostname too (a second "machine" for the relay tests).  ns_run may
# be called again inside (nested namespaces: two "machines" streaming to a relay daemon
# of the outer one); each level stops only the daemons it started.
# Inside: no session daemon is started (ns_sessiond starts one when a test wants it),
# LTTNG_HOME is $NS_HOME (default $NS_STATE.home).

# ns_starttime PID: field 22 of /proc/PID/stat, or nothing.
ns_starttime() {
	local s f
	{ read -r s <"/proc/$1/stat"; } 2>/dev/null || return 1
	s=${s##*) }
	read -r -a f <<<"$s"
	echo "${f[19]}"
}

# ns_daemons: "pid starttime comm" of every LTTng daemon in this mount namespace.
ns_daemons() {
	local p comm
	for p in /proc/[0-9]*; do
		{ read -r comm <"$p/comm"; } 2>/dev/null || continue
		case $comm in lttng-sessiond | lttng-consumerd | lttng-relayd | lttng-runas) ;;
		*) continue ;; esac
		[[ $p/ns/mnt -ef /proc/self/ns/mnt ]] || continue
		echo "${p#/proc/} $(ns_starttime "${p#/proc/}") $comm"
	done
}

ns_note_daemons() {
	local line
	while read -r line; do
		grep -qxF "$line" "$NS_STATE" 2>/dev/null || echo "$line" >>"$NS_STATE"
	done < <(ns_daemons)
}

# ns_stop_noted: stops the noted daemons still running (same pid and start time):
# SIGTERM to session and relay daemons, SIGKILL to anything left after 5 s.  Outside any
# namespace of ours it also stops what nested namespaces of a killed run noted.
ns_stop_noted() {
	local f
	if [[ -z ${NS_DEPTH:-} ]]; then
		for f in "$NS_STATE".n*; do
			[[ -f $f ]] || continue # (a nested namespace's LTTNG_HOME is a directory)
			NS_STATE=$f ns_stop_state
			rm -f "$f"
		done
		rm -rf "$NS_STATE".n*.home # nested namespaces' LTTNG_HOMEs of earlier runs
	fi
	ns_stop_state
}

ns_stop_state() {
	local pid st comm i left
	[[ -s $NS_STATE ]] || return 0
	while read -r pid st comm; do
		[[ $(ns_starttime "$pid") == "$st" ]] || continue
		case $comm in lttng-sessiond | lttng-relayd) kill -TERM "$pid" 2>/dev/null ;; esac
	done <"$NS_STATE"
	for ((i = 0; i < 50; i++)); do
		left=0
		while read -r pid st comm; do
			[[ $(ns_starttime "$pid") == "$st" ]] && left=1
		done <"$NS_STATE"
		((left)) || break
		sleep 0.1
	done
	while read -r pid st comm; do
		[[ $(ns_starttime "$pid") == "$st" ]] && kill -KILL "$pid" 2>/dev/null
	done <"$NS_STATE"
	: >"$NS_STATE"
}

# ns_run [--uts HOSTNAME] FUNCTION ARGS...
# Not root: a user namespace too (unshare -r), where the mounts are allowed.
ns_run() {
	local flags=(-m) host=
	[[ $(id -u) == 0 ]] || flags+=(-r)
	if [[ ${1:-} == --uts ]]; then
		flags+=(-u)
		host=$2
		shift 2
	fi
	# For this command only: a later ns_run without --uts must not rename the machine.
	NS_HOSTNAME=$host NS_DEPTH=$((${NS_DEPTH:-0} + 1)) \
		unshare "${flags[@]}" -- "${NS_SELF:-$0}" --ns-run "$@"
}

# ns_dispatch "$@": in the re-executed script, set up the namespace and run FUNCTION.
ns_dispatch() {
	[[ ${1:-} == --ns-run ]] || return 0
	shift
	local fn=$1 d rc
	shift
	# A nested namespace notes its daemons in a file of its own: stopping them must not
	# stop the outer namespace's (a relay daemon the nested hosts stream to).
	((NS_DEPTH > 1)) && NS_STATE=$NS_STATE.n$BASHPID
	trap 'ns_note_daemons; ns_stop_noted' EXIT
	mount --make-rprivate / || { echo "FAIL: mount --make-rprivate / failed" >&2; exit 1; }
	mkdir -p /run/lttng
	mount -t tmpfs -o mode=0755 magslab-test-lttng /run/lttng ||
		{ echo "FAIL: cannot mount a tmpfs on /run/lttng" >&2; exit 1; }
	d=$(readlink -f /var/run 2>/dev/null)
	if [[ $d != /run && -d /var/run ]]; then
		mkdir -p /var/run/lttng
		mount -t tmpfs -o mode=0755 magslab-test-lttng /var/run/lttng || exit 1
	fi
	mount -t tmpfs -o mode=1777 magslab-test-shm /dev/shm ||
		{ echo "FAIL: cannot mount a tmpfs on /dev/shm" >&2; exit 1; }
	if [[ -n ${NS_HOSTNAME:-} ]]; then
		# Only ever in a UTS namespace of our own: never rename the machine.
		[[ /proc/self/ns/uts -ef /proc/1/ns/uts ]] &&
			{ echo "FAIL: NS_HOSTNAME set outside a private UTS namespace" >&2; exit 1; }
		hostname "$NS_HOSTNAME"
	fi
	export LTTNG_HOME=${NS_HOME:-$NS_STATE.home}
	mkdir -p "$LTTNG_HOME"
	(
		set -e
		"$fn" "$@"
	)
	rc=$?
	exit "$rc"
}

# ns_sessiond: starts a session daemon in the namespace (log: $LTTNG_HOME/sessiond.log).
ns_sessiond() {
	lttng-sessiond -d --no-kernel >"$LTTNG_HOME/sessiond.log" 2>&1 ||
		{ echo "FAIL: lttng-sessiond failed: $(head -n 2 "$LTTNG_HOME/sessiond.log")" >&2; return 1; }
	ns_note_daemons
}
