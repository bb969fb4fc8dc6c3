# tests/malloc_inputs.sh — the inputs of the real programs that run on the malloc shim,
# sourced by tests/test_malloc_programs.sh and bench/run-programs.sh.
#
#   gen_python FILE N   a python3 program: an N-entry dict built, dumped to json,
#                       loaded back, compared, sorted; prints a digest of it
#   gen_sql FILE N      sqlite3 commands: N rows, two indexes, three queries
#   gen_c FILE N        a C file of N small functions (for gcc -O2 -c)
#   gen_lines FILE N    N lines for sort
# Deterministic: the same N gives the same bytes.  gen_c needs $PY (a python3).

gen_python() {
	sed "s/@N@/$2/" >"$1" <<'EOF'
import json, random
random.seed(14)
d = {}
for i in range(@N@):
    key = "k%08d-%s" % (random.randrange(10**8), "x" * (i % 37))
    d[key] = [i, str(i) * (i % 5), {"half": i * 0.5, "tag": key[-3:]}]
text = json.dumps(d, sort_keys=True)
back = json.loads(text)
assert back == d
ordered = sorted(back.items(), key=lambda kv: (len(kv[0]), kv[0]))
print(len(text), len(ordered), ordered[0], ordered[-1])
print(json.dumps(ordered[::997])[:100000])
EOF
}

gen_sql() {
	sed "s/@N@/$2/" >"$1" <<'EOF'
CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT, b INTEGER, c REAL);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < @N@)
INSERT INTO t SELECT i, printf('name-%d-%s', i * 7919 % 100003,
       substr('abcdefghijklmnopqrstuvwxyz', 1, i % 26)), i * 31 % 1000, i / 7.0 FROM n;
CREATE INDEX ta ON t(a);
CREATE INDEX tb ON t(b, a);
SELECT count(*), sum(b), min(a), max(a), sum(c) FROM t;
SELECT b, count(*), group_concat(substr(a, 1, 9), ',') FROM
       (SELECT * FROM t WHERE b < 5 ORDER BY a) GROUP BY b;
SELECT a, b FROM t WHERE a LIKE 'name-1234%' ORDER BY a;
EOF
}

gen_c() {
	"$PY" - "$1" "$2" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    f.write("#include <string.h>\nstruct s { int a; long b; char c[16]; };\n")
    for i in range(int(sys.argv[2])):
        f.write(f"""int f{i}(int x, struct s *p)
{{
	int r = x * {i % 97 + 1} + p->a;
	if (r > {i})
		memcpy(p->c, "ab{i % 10}", 4);
	else
		p->b += r;
	return r + p->c[{i % 16}];
}}
""")
EOF
}

gen_lines() {
	awk -v n="$2" 'BEGIN { for (i = 1; i <= n; i++)
		printf "%08x line %d %s\n", (i * 2654435761) % 4294967296, i,
			substr("qwertyuiopasdfghjklzxcvbnm", 1 + i % 23) }' >"$1"
}

