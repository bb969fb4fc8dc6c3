#!/usr/bin/env bash
# tests/test_events_doc.sh — docs/events.md and the tracepoint provider list the same events.
#
#   tests/test_events_doc.sh [--doc FILE] [--header FILE]     doc vs provider header
#   tests/test_events_doc.sh [--doc FILE] --metadata DIR [--full]
#                                                             doc vs a recorded trace
#
# Both sides are reduced to the same normalised listing and compared with diff:
#   event NAME level=info|debug_line
#   field NAME N FIELD TYPE         N-th field (1-based), TYPE u8/u16/u32/u64/s32/...,
#                                   string, or enum(label=value,...) with the values of
#                                   the enumeration it names
# so that the check covers: the same event names, the same field names in the same order,
# the same integer types (signedness and width; hex or decimal display is not compared), the
# same enumeration labels and values, and the log levels (docs/events.md: an event whose
# "when" column says "debug log level" is TRACE_DEBUG_LINE, every other one TRACE_INFO).
#
# The header (default tracepoints/magslab_tp.h) is read as text: LTTNG_UST_TRACEPOINT_ENUM,
# _EVENT, _EVENT_CLASS, _EVENT_INSTANCE (fields of its class) and _LOGLEVEL, one field macro
# (lttng_ust_field_*) per line.  A line with a field macro this script cannot read fails
# the check rather than being skipped.  No LTTng session is needed.
#
# --metadata DIR reads the CTF metadata of a trace recorded with `magslab:*` enabled
# (babeltrace2 --output-format=ctf-metadata; DIR is the trace directory holding `metadata`,
# or any directory above it).  LTTng-UST describes every enabled event of the provider
# there, recorded or not; events the doc marks `TRACE=full` only are left out of the
# comparison unless --full says the trace comes from a TRACE=full build.
#
# Exit status: 0 same, 1 different (the diff is printed), 2 usage or unreadable input.
set -uo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
doc=$here/docs/events.md
header=$here/tracepoints/magslab_tp.h
metadata=
full=0

usage() {
	sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

while (($#)); do
	case $1 in
	--doc) doc=${2:?}; shift 2 ;;
	--header) header=${2:?}; shift 2 ;;
	--metadata) metadata=${2:?}; shift 2 ;;
	--full) full=1; shift ;;
	-h | --help) usage ;;
	*) echo "test_events_doc: unknown argument '$1'" >&2; usage ;;
	esac
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/events-doc.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

[[ -r $doc ]] || { echo "test_events_doc: cannot read $doc" >&2; exit 2; }

# ---- docs/events.md ------------------------------------------------------------------
# Pass 1 collects the "Enumerations" table, pass 2 the "Events" table.  With --metadata
# and without --full, events whose "when" column says TRACE=full are left out.
doc_listing() {
	awk -v skip_full="$1" '
	function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
	function unquote(s) { gsub(/`/, "", s); return trim(s) }
	/^## / { section = $0; next }
	# A table row, not the header or the |---| line.
	section ~ /Enumerations/ && /^\|/ && !/^\|[- |]*\|$/ {
		n = split($0, col, "|")
		name = unquote(col[2])
		if (name == "enum") next
		vals = col[3]; list = ""
		while (match(vals, /`[^`]*` = -?[0-9]+/)) {
			pair = substr(vals, RSTART, RLENGTH)
			vals = substr(vals, RSTART + RLENGTH)
			label = pair; sub(/` = .*/, "", label); sub(/^`/, "", label)
			v = pair; sub(/.*= /, "", v)
			list = list (list == "" ? "" : ",") label "=" v
		}
		if (list == "") { print "doc: enumeration " name " has no values" > "/dev/stderr"; bad = 1 }
		enums[name] = list
		next
	}
	section ~ /^## Events/ && /^\|/ && !/^\|[- |]*\|$/ {
		n = split($0, col, "|")
		name = unquote(col[2])
		if (name == "event") next
		when = col[3]
		if (skip_full && when ~ /TRACE=full/) next
		level = when ~ /debug log level/ ? "debug_line" : "info"
		print "event " name " level=" level
		nf = split(col[4], fld, ";")
		for (i = 1; i <= nf; i++) {
			f = trim(fld[i])
			if (!match(f, /^`[a-z_0-9]+`/)) {
				print "doc: " name ": cannot read field \"" f "\"" > "/dev/stderr"
				bad = 1; continue
			}
			fname = substr(f, 2, RLENGTH - 2)
			rest = trim(substr(f, RLENGTH + 1))
			split(rest, w, /[ \t(]+/)
			type = w[1]
			if (type == "enum") {
				if (!(w[2] in enums)) {
					print "doc: " name "." fname ": unknown enumeration " w[2] > "/dev/stderr"
					bad = 1
				}
				type = "enum(" enums[w[2]] ")"
			} else if (type !~ /^([us](8|16|32|64)|string)$/) {
				print "doc: " name "." fname ": unknown type \"" type "\"" > "/dev/stderr"
				bad = 1
			}
			print "field " name " " i " " fname " " type
		}
		next
	}
	END { exit bad }' "$doc"
}

# ---- tracepoints/magslab_tp.h ------------------------------------------------------------
header_listing() {
	awk '
	function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
	function ctype(t) {
		t = trim(t)
		if (t ~ /^u?int(8|16|32|64)_t$/) {
			s = t ~ /^u/ ? "u" : "s"
			sub(/^u?int/, "", t); sub(/_t$/, "", t)
			return s t
		}
		if (t == "int" || t == "signed int") return "s32"
		if (t == "unsigned int" || t == "unsigned") return "u32"
		if (t == "char" || t == "signed char") return "s8"
		if (t == "unsigned char") return "u8"
		if (t == "long" || t == "long int") return "s64"
		if (t == "unsigned long") return "u64"
		return "?" t
	}
	# Strip comments (they may span lines).
	{
		line = $0; out = ""
		while (line != "") {
			if (incomment) {
				p = index(line, "*/")
				if (!p) { line = ""; break }
				line = substr(line, p + 2); incomment = 0
			} else {
				p = index(line, "/*")
				if (!p) { out = out line; line = ""; break }
				out = out substr(line, 1, p - 1); line = substr(line, p + 2)
				incomment = 1
			}
		}
		$0 = out
	}
	/LTTNG_UST_TRACEPOINT_ENUM[ \t]*\(/ {
		s = $0; sub(/.*LTTNG_UST_TRACEPOINT_ENUM[ \t]*\([ \t]*magslab[ \t]*,[ \t]*/, "", s)
		sub(/[ \t]*,.*/, "", s)
		cur_enum = s; enums[cur_enum] = ""; cur = ""; next
	}
	/lttng_ust_field_enum_value[ \t]*\(/ {
		s = $0; sub(/.*lttng_ust_field_enum_value[ \t]*\([ \t]*"/, "", s)
		label = s; sub(/".*/, "", label)
		v = s; sub(/^[^"]*"[ \t]*,[ \t]*/, "", v); sub(/[ \t]*\).*/, "", v)
		enums[cur_enum] = enums[cur_enum] (enums[cur_enum] == "" ? "" : ",") label "=" v
		next
	}
	/lttng_ust_field_enum_(range|auto)/ {
		print "header: enumeration " cur_enum ": ranges/auto values are not supported here" > "/dev/stderr"
		bad = 1; next
	}
	/LTTNG_UST_TRACEPOINT_EVENT_CLASS[ \t]*\(/ {
		s = $0; sub(/.*LTTNG_UST_TRACEPOINT_EVENT_CLASS[ \t]*\([ \t]*magslab[ \t]*,[ \t]*/, "", s)
		sub(/[ \t]*,.*/, "", s)
		cur = "class:" s; nfields[cur] = 0; next
	}
	/LTTNG_UST_TRACEPOINT_EVENT_INSTANCE[ \t]*\(/ {
		s = $0; sub(/.*LTTNG_UST_TRACEPOINT_EVENT_INSTANCE[ \t]*\(/, "", s)
		split(s, a, ",")
		cls = "class:" trim(a[2]); ev = trim(a[4])
		order[++nev] = ev
		if (!(cls in nfields)) {
			print "header: " ev ": unknown event class " cls > "/dev/stderr"
			bad = 1
		}
		nfields[ev] = nfields[cls]
		for (i = 1; i <= nfields[cls]; i++) field[ev, i] = field[cls, i]
		cur = ""; next
	}
	/LTTNG_UST_TRACEPOINT_EVENT[ \t]*\(/ {
		s = $0; sub(/.*LTTNG_UST_TRACEPOINT_EVENT[ \t]*\([ \t]*magslab[ \t]*,[ \t]*/, "", s)
		sub(/[ \t]*,.*/, "", s)
		cur = s; order[++nev] = s; nfields[cur] = 0; next
	}
	/LTTNG_UST_TRACEPOINT_LOGLEVEL[ \t]*\(/ {
		s = $0; sub(/.*LTTNG_UST_TRACEPOINT_LOGLEVEL[ \t]*\(/, "", s)
		split(s, a, ",")
		lv = trim(a[3]); sub(/[ \t]*\).*/, "", lv); sub(/^LTTNG_UST_TRACEPOINT_LOGLEVEL_/, "", lv)
		level[trim(a[2])] = tolower(lv); next
	}
	/lttng_ust_field_[a-z_]+[ \t]*\(/ {
		if (cur == "") {
			print "header: field macro outside an event: " trim($0) > "/dev/stderr"
			bad = 1; next
		}
		s = $0; sub(/^[ \t]*/, "", s)
		macro = s; sub(/[ \t]*\(.*/, "", macro); sub(/^lttng_ust_field_/, "", macro)
		args = s; sub(/^[^(]*\(/, "", args)
		split(args, a, ",")
		if (macro ~ /^integer(_hex|_network|_network_hex)?$/) {
			fname = trim(a[2]); type = ctype(a[1])
		} else if (macro ~ /^string(_nowrite)?$/) {
			fname = trim(a[1]); type = "string"
		} else if (macro ~ /^enum(_nowrite)?$/) {
			fname = trim(a[4]); type = "enum:" trim(a[2])
		} else {
			print "header: " cur ": field macro lttng_ust_field_" macro " is not supported here" > "/dev/stderr"
			bad = 1; next
		}
		n = ++nfields[cur]
		field[cur, n] = fname " " type
		next
	}
	END {
		for (e = 1; e <= nev; e++) {
			ev = order[e]
			lv = (ev in level) ? level[ev] : "none (TRACE_DEFAULT)"
			print "event " ev " level=" lv
			for (i = 1; i <= nfields[ev]; i++) {
				split(field[ev, i], f, " ")
				type = f[2]
				if (type ~ /^enum:/) {
					en = substr(type, 6)
					if (!(en in enums)) {
						print "header: " ev "." f[1] ": unknown enumeration " en > "/dev/stderr"
						bad = 1
					}
					type = "enum(" enums[en] ")"
				}
				print "field " ev " " i " " f[1] " " type
			}
		}
		exit bad
	}' "$header"
}

# ---- CTF metadata of a recorded trace -----------------------------------------------------
metadata_listing() {
	local dir=$1 mdir
	mdir=$(find "$dir" -name metadata -type f -printf '%h\n' 2>/dev/null | sort | head -n 1)
	if [[ -z $mdir ]]; then
		echo "test_events_doc: no 'metadata' file under $dir" >&2
		return 2
	fi
	babeltrace2 --output-format=ctf-metadata "$mdir" >"$tmp/metadata.tsdl" 2>"$tmp/bt.err" || {
		echo "test_events_doc: babeltrace2 --output-format=ctf-metadata $mdir failed:" >&2
		cat "$tmp/bt.err" >&2
		return 2
	}
	awk '
	function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
	function inttype(s,   size, sgn) {
		size = s; sub(/.*size = /, "", size); sub(/;.*/, "", size)
		sgn = s; sub(/.*signed = /, "", sgn); sub(/;.*/, "", sgn)
		return (sgn == "1" ? "s" : "u") size
	}
	/^event \{/ { inev = 1; ev = ""; lv = ""; infields = 0; next }
	inev && /^\tname = "/ {
		ev = $0; sub(/^\tname = "/, "", ev); sub(/";.*/, "", ev)
		keep = ev ~ /^magslab:/
		sub(/^magslab:/, "", ev)
		next
	}
	inev && /^\tloglevel = / {
		lv = $0; sub(/.*= /, "", lv); sub(/;.*/, "", lv)
		next
	}
	inev && /^\tfields := struct \{/ {
		infields = 1; n = 0
		if (keep) {
			# lttng-ust/tracepoint.h: LTTNG_UST_TRACEPOINT_LOGLEVEL_*
			split("emerg alert crit err warning notice info debug_system debug_program debug_process debug_module debug_unit debug_function debug_line debug", lvname, " ")
			for (i = 1; i <= 15; i++) name_of_level[i - 1] = lvname[i]
			l = (lv in name_of_level) ? name_of_level[lv] : "loglevel" lv
			print "event " ev " level=" l
		}
		next
	}
	infields && inenum {
		if ($0 ~ /^\t\t\} _[A-Za-z0-9_]+;/) {
			f = $0; sub(/^\t\t\} _/, "", f); sub(/;.*/, "", f)
			if (keep) print "field " ev " " ++n " " f " enum(" labels ")"
			inenum = 0
		} else {
			s = trim($0); sub(/,$/, "", s)
			label = s; sub(/^"/, "", label); sub(/" = .*/, "", label)
			v = s; sub(/.*= /, "", v)
			labels = labels (labels == "" ? "" : ",") label "=" v
		}
		next
	}
	infields && /^\t\tenum : / { inenum = 1; labels = ""; next }
	infields && /^\t\tinteger \{/ {
		f = $0; sub(/.*\} _/, "", f); sub(/;.*/, "", f)
		if (keep) print "field " ev " " ++n " " f " " inttype($0)
		next
	}
	infields && /^\t\tstring/ {
		f = $0; sub(/.*string( \{[^}]*\})? _/, "", f); sub(/;.*/, "", f)
		if (keep) print "field " ev " " ++n " " f " string"
		next
	}
	infields && /^\t\};?/ { infields = 0; next }
	infields && /^\t\t/ {
		if (keep) print "field " ev " " ++n " ? unsupported: " trim($0)
		next
	}
	/^\};/ { inev = 0; next }' "$tmp/metadata.tsdl"
}

# ---- compare ---------------------------------------------------------------------------
if [[ -n $metadata ]]; then
	other=metadata
	skip_full=$((!full))
	metadata_listing "$metadata" >"$tmp/other" || exit 2
else
	other=header
	skip_full=0
	[[ -r $header ]] || { echo "test_events_doc: cannot read $header" >&2; exit 2; }
	header_listing >"$tmp/other" || { echo "test_events_doc: cannot read every line of $header" >&2; exit 1; }
fi
doc_listing "$skip_full" >"$tmp/doc" || { echo "test_events_doc: cannot read every row of $doc" >&2; exit 1; }

nev_doc=$(grep -c '^event ' "$tmp/doc")
nev_other=$(grep -c '^event ' "$tmp/other")
nf_doc=$(grep -c '^field ' "$tmp/doc")
if ((nev_doc == 0)); then
	echo "test_events_doc: no events found in $doc" >&2
	exit 1
fi
# Events in the same order is not part of the contract: sort both listings by event
# (fields keep their numbers, so their order still counts).
sort "$tmp/doc" >"$tmp/doc.sorted"
sort "$tmp/other" >"$tmp/other.sorted"
if diff -u --label "docs/events.md" --label "$other" "$tmp/doc.sorted" "$tmp/other.sorted"; then
	echo "test_events_doc: docs/events.md and the $other agree: $nev_doc events, $nf_doc fields"
	exit 0
fi
echo "test_events_doc: docs/events.md ($nev_doc events) and the $other ($nev_other events) differ (diff above: - doc, + $other)"
exit 1
