#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Metrics (issue 16): scripts/mzswap-exporter's output served by Debian's
# own prometheus-node-exporter (textfile collector, listening on 127.0.0.1
# only), scraped and parsed back: on an idle cache every mzswap series
# equals what debugfs says, global counters and per-cgroup table alike.
# Then the two ways to bound the cgroup labels: a depth limit and an
# allowlist, each summing what it folds so that no page goes uncounted.
#
# vm: mem=1G cpus=2 disks=backing:1G timeout=300
set -euo pipefail

. "$(dirname "$0")/lib/ktap.sh"
. "$(dirname "$0")/lib/cgroup.sh"
. "$(dirname "$0")/lib/mzswap.sh"
. "$(dirname "$0")/lib/workload.sh"

EXPORTER=$MZ_REPO/scripts/mzswap-exporter
NODE_EXPORTER=/usr/bin/prometheus-node-exporter
ADDR=127.0.0.1:9100
TEXTDIR=$TMPDIR/textfile
ROOT_REL=${MZ_CG_ROOT#"$CG_MOUNT"}

# snapshot: every counter and the per-cgroup table, as debugfs has them.
snapshot()
{
	local n

	for n in $(mz_counter_names); do
		echo "$n $(<"$MZ_DEBUGFS/$n")"
	done
	cat "$MZ_DEBUGFS/cgroups"
}

# series METRIC [CGROUP]: the value of METRIC (with cgroup="CGROUP") in
# SCRAPE, as an integer ("+Inf" as is); one line, or none if absent.
series()
{
	awk -v m="$1" -v cg="${2-}" -v has="${2+1}" '
	/^#/ { next }
	{
		name = $0; sub(/[{ ].*/, "", name)
		if (name != m) next
		lab = ""
		if (index($0, "{")) {
			lab = $0; sub(/^[^{]*\{cgroup="/, "", lab); sub(/"\}.*/, "", lab)
			gsub(/\\"/, "\"", lab); gsub(/\\\\/, "\\", lab)
		}
		if ((has && lab != cg) || (!has && lab != "")) next
		v = $NF
		if (v == "+Inf") print v; else printf "%.0f\n", v
	}' <<<"$SCRAPE"
}

# one_value WHAT LINES: exactly one line.
one_value()
{
	[ -n "$2" ] || fail "$1: no series"
	[ "$(wc -l <<<"$2")" = 1 ] || fail "$1: more than one series: $2"
	echo "$2"
}

# setup: a cache with entries in two cgroups, a/x and a/b/c (a limit on
# one, writeback off on the other), swapped out and held;
# node_exporter serving TEXTDIR on ADDR. Run by the first case, used by
# both: it outlives the case's subshell and is torn down at the file's
# exit (the at_exit calls below the functions).
setup()
{
	local cg_a cg_deep

	[ -x "$NODE_EXPORTER" ] || fail "$NODE_EXPORTER missing (scripts/setup.sh installs it)"
	[ -b "${MZ_DISK_BACKING:-}" ] || fail "no backing disk"
	mz_modprobe_deps
	mz_load backing_dev="$MZ_DISK_BACKING"
	mkswap /dev/mzswap0 >/dev/null
	swap_on /dev/mzswap0
	# Leaves: cgroup2 keeps processes out of inner nodes.
	cg_a=$(cg_create a/x)
	cg_deep=$(cg_create a/b/c)
	cg_write "$cg_a" memory.max 24M
	cg_write "$cg_deep" memory.max 24M
	echo "${cg_deep#"$CG_MOUNT"} 4194304" >"$MZ_DEBUGFS/cgroup_max"
	echo "${cg_a#"$CG_MOUNT"} 0" >"$MZ_DEBUGFS/cgroup_writeback"
	hold "$cg_a" 40M 2to1 931 --quiet
	hold "$cg_deep" 40M 4to1 932 --quiet

	ip link set lo up
	mkdir -p "$TEXTDIR"
	"$NODE_EXPORTER" --web.listen-address="$ADDR" \
		--collector.disable-defaults --collector.textfile \
		--collector.textfile.directory="$TEXTDIR" \
		>"$TMPDIR/node-exporter.log" 2>&1 &
	echo $! >"$TMPDIR/node-exporter.pid"
	wait_for 60 curl -sf -o /dev/null "http://$ADDR/metrics"
	# Only on the loopback address.
	ss -Hltn | grep -q "^LISTEN .* $ADDR " || fail "not listening on $ADDR: $(ss -Hltn)"
	! ss -Hltn | grep ':9100 ' | grep -vq " $ADDR " ||
		fail "listening beyond $ADDR: $(ss -Hltn)"
}

stop_node_exporter()
{
	[ ! -f "$TMPDIR/node-exporter.pid" ] || kill "$(<"$TMPDIR/node-exporter.pid")" 2>/dev/null || true
}

case_scrape_equals_debugfs()
{
	local a b='' n v try path rest id online stored bytes same
	local loads wb rejects wbon max hits

	setup
	# Idle: debugfs reads the same before and after the export and scrape.
	for try in 1 2 3 4 5; do
		a=$(snapshot)
		"$EXPORTER" -o "$TEXTDIR/mzswap.prom"
		SCRAPE=$(curl -sf "http://$ADDR/metrics")
		b=$(snapshot)
		[ "$a" != "$b" ] || break
		echo "try $try: debugfs changed during the scrape"
		nap 2
	done
	[ "$a" = "$b" ] || fail "the cache never stayed idle for a scrape"
	check_eq "$(one_value scrape_error "$(series node_textfile_scrape_error)")" 0 \
		"node_textfile_scrape_error"
	check_eq "$(one_value mzswap_up "$(series mzswap_up)")" 1 "mzswap_up"

	# Every counter of stats.h, as mzswap_NAME (gauge) or _total.
	while read -r n v; do
		check_eq "$(one_value "$n" "$(series "mzswap_$n"; series "mzswap_${n}_total")")" \
			"$v" "scraped $n"
	done < <(grep -v '^[#/(]' <<<"$a" | grep -v '^$')
	check_gt "$(mz_counter stored_pages)" 1000 "stored_pages (a cache worth checking)"

	# Every row of the table, as the idle snapshot has it (a later read
	# may differ: on the debug kernel a/b/c's stored_pages fell from
	# 4,055 to 2,338 after the scrape).
	n=0
	while IFS=$'\t' read -r path rest; do
		read -r id online stored bytes same loads wb rejects wbon max hits hold subtree <<<"$rest"
		: "$id" "$online"
		check_eq "$(one_value "$path stored" "$(series mzswap_cgroup_stored_pages "$path")")" "$stored" "$path stored_pages"
		check_eq "$(series mzswap_cgroup_compressed_bytes "$path")" "$bytes" "$path compressed_bytes"
		check_eq "$(series mzswap_cgroup_same_filled_pages "$path")" "$same" "$path same_filled"
		check_eq "$(series mzswap_cgroup_loads_total "$path")" "$loads" "$path loads"
		check_eq "$(series mzswap_cgroup_written_back_total "$path")" "$wb" "$path written_back"
		check_eq "$(series mzswap_cgroup_rejects_total "$path")" "$rejects" "$path rejects"
		check_eq "$(series mzswap_cgroup_writeback_enabled "$path")" "$wbon" "$path writeback"
		[ "$max" != max ] || max=+Inf
		check_eq "$(series mzswap_cgroup_max_bytes "$path")" "$max" "$path max"
		[ "$hits" != - ] || hits=''
		check_eq "$(series mzswap_cgroup_hit_percent "$path")" "$hits" "$path hit_percent"
		check_eq "$(series mzswap_cgroup_holding "$path")" "$hold" "$path hold"
		[ "$subtree" != - ] || subtree=''
		check_eq "$(series mzswap_cgroup_subtree_bytes "$path")" "$subtree" "$path subtree_bytes"
		n=$((n + 1))
	done < <(table_rows <<<"$a")
	check_ge "$n" 3 "table rows compared"
	echo "$n rows and $(grep -c '^mzswap_' <<<"$SCRAPE") mzswap series equal debugfs"
}

# table_rows: debugfs's per-cgroup table on stdin, one line per row out:
# the path, a tab, then the fields the header names, in the order of
# "id online stored_pages compressed_bytes same_filled loads written_back
# rejects writeback max hit_percent hold subtree_bytes", found by name
# from the right (a path may hold spaces).
table_rows()
{
	awk '/^# path / {
			nf = NF - 2
			for (i = 3; i <= NF; i++)
				off[$i] = NF - i
			n = split("id online stored_pages compressed_bytes same_filled loads written_back rejects writeback max hit_percent hold subtree_bytes", want, " ")
			next
		}
		/^#/ || !nf || NF <= nf { next }
		{
			p = $0
			for (i = 0; i < nf; i++)
				sub(/ [^ ]*$/, "", p)
			r = ""
			for (i = 1; i <= n; i++)
				r = r (i > 1 ? " " : "") (want[i] in off ? $(NF - off[want[i]]) : "?")
			print p "\t" r
		}'
}

# sum_stored OUTPUT: mzswap_cgroup_stored_pages summed over its labels.
sum_stored()
{
	awk '/^mzswap_cgroup_stored_pages\{/ { s += $NF } END { printf "%.0f\n", s }' <<<"$1"
}

case_bounded_labels()
{
	local out total labels l

	total=$(table_rows <"$MZ_DEBUGFS/cgroups" |
		awk -F '\t' '{ split($2, v, " "); s += v[3] } END { print s + 0 }')
	check_gt "$total" 0 "stored pages in the table"

	# Depth: the test root is at depth 1; a/x (3) stays, a/b/c (4) folds
	# into a/b/*.
	out=$("$EXPORTER" -d 3)
	labels=$(grep -o '^mzswap_cgroup_stored_pages{cgroup="[^"]*"' <<<"$out" |
		sed 's/.*cgroup="//; s/"$//')
	echo "depth 3 labels: $(tr '\n' ' ' <<<"$labels")"
	while read -r l; do
		case $l in
		'(removed)'|/) ;;
		*/\*)	check_eq "$(tr -cd / <<<"${l%/\*}" | wc -c)" 3 "depth of $l" ;;
		*)	check_le "$(tr -cd / <<<"$l" | wc -c)" 3 "depth of $l" ;;
		esac
	done <<<"$labels"
	grep -qx "$ROOT_REL/a/b/\*" <<<"$labels" || fail "no $ROOT_REL/a/b/* series"
	check_eq "$(sum_stored "$out")" "$total" "stored pages summed over the depth-3 labels"

	# Allowlist: only the test's a/x, the rest in (other).
	out=$("$EXPORTER" -a "^$ROOT_REL/a/x\$")
	labels=$(grep -o '^mzswap_cgroup_stored_pages{cgroup="[^"]*"' <<<"$out" |
		sed 's/.*cgroup="//; s/"$//' | grep -vx '(removed)' | LC_ALL=C sort | tr '\n' ' ')
	check_eq "$labels" "(other) $ROOT_REL/a/x " "allowlisted labels"
	check_eq "$(sum_stored "$out")" "$total" "stored pages summed over the allowlisted labels"

	# Bad options are refused.
	if "$EXPORTER" -a '(' >/dev/null 2>&1; then fail "-a ( accepted"; fi
	if "$EXPORTER" -d x >/dev/null 2>&1; then fail "-d x accepted"; fi
}

at_exit mz_teardown
at_exit stop_node_exporter
ktap_print_header
ktap_set_plan 2
ktap_case "node_exporter's scrape of the textfile equals debugfs on an idle cache" case_scrape_equals_debugfs
ktap_case "cgroup labels bounded by depth and by allowlist, nothing lost" case_bounded_labels
ktap_finished
