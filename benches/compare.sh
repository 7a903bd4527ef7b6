#!/usr/bin/env bash
# Side-by-side, whole-process measurements of meshform and what users would run instead, on the
# same generated repos (benches/support/gen.rs). Results: $OUT/results.csv (one row per
# measurement), hyperfine JSON per run, and docs/performance.csv when WRITE_DOCS=1.
#
#   benches/compare.sh                      # 1,000 / 10,000 / 100,000 objects
#   SIZES="1000 10000" RUNS=3 benches/compare.sh
#
# Peers that run on this machine (docs/performance.md):
#   - `kubectl kustomize` (kustomize v5.5.0 inside kubectl) over the same input files: it
#     only loads and re-emits them, while meshform types, checks, translates and validates.
#   - the built-in policies written in Rego (benches/rego) evaluated by regorus
#     (examples/rego_check.rs), standing in for conftest.
# Time: hyperfine (mean of RUNS runs after one warm-up). Peak memory: /usr/bin/time -v
# ("Maximum resident set size") and CPU time (user + system), one separate run; the 1-minute
# load average when it ran goes in the CSV too, since this machine is shared. Both tools come
# from Debian's packages and are installed here when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SIZES=${SIZES:-"1000 10000 100000"}
RUNS=${RUNS:-}
OUT=${OUT:-$ROOT/bench-out}
ARGOCD_OBJECTS=${ARGOCD_OBJECTS:-50000}
DIFF_OBJECTS=${DIFF_OBJECTS:-10000}
DIFF_CHANGES=${DIFF_CHANGES:-100}
# kubectl kustomize is superlinear: on 10,000 objects it had not finished after 43 minutes
# (8 CPU minutes) on this machine, so by default it runs on the smallest size only.
KUSTOMIZE_SIZES=${KUSTOMIZE_SIZES:-1000}
mkdir -p "$OUT/repos" "$OUT/json"

if ! command -v hyperfine >/dev/null || ! [ -x /usr/bin/time ]; then
    echo "== installing hyperfine and time (Debian packages)" >&2
    apt-get update -qq && apt-get install -y -qq hyperfine time >/dev/null
fi
if ! command -v kubectl >/dev/null; then
    echo "warning: kubectl not found; the kustomize comparison is skipped" >&2
fi

echo "== building (release)" >&2
cargo build --release --quiet --bin meshform --example genrepo --example rego_check
BIN=$ROOT/target/release/meshform
GEN=$ROOT/target/release/examples/genrepo
REGO=$ROOT/target/release/examples/rego_check

CSV=$OUT/results.csv
echo "tool,task,objects,mean_s,stddev_s,min_s,max_s,runs,peak_rss_mib,cpu_s,loadavg,exit" >"$CSV"

repo() { # repo N [CHANGES] -> path of a generated repo (made once)
    local n=$1 changes=${2:-0} dir
    if [ "$changes" = 0 ]; then dir=$OUT/repos/repo-$n; else dir=$OUT/repos/diff-$n-$changes; fi
    if [ ! -f "$dir.stats.json" ]; then
        rm -rf "$dir"
        if [ "$changes" = 0 ]; then
            "$GEN" --objects "$n" --out "$dir" >"$dir.stats.json"
        else
            "$GEN" --objects "$n" --changes "$changes" --git --out "$dir" >"$dir.stats.json"
        fi
    fi
    echo "$dir"
}

runs_for() { # default number of timed runs by size
    if [ -n "$RUNS" ]; then echo "$RUNS"; elif [ "$1" -le 1000 ]; then echo 10;
    elif [ "$1" -le 10000 ]; then echo 5; else echo 2; fi
}

# measure TOOL TASK N DIR CMD... : one run under /usr/bin/time -v (peak RSS, CPU time), then
# hyperfine (in DIR) for the mean, unless that run took over SLOW seconds: then that single run
# is the figure. A run over LIMIT seconds is stopped and recorded as such (exit 124).
SLOW=${SLOW:-60}
LIMIT=${LIMIT:-1200}
measure() {
    local tool=$1 task=$2 n=$3 dir=$4; shift 4
    local runs json rss cpu wall load status
    runs=$(runs_for "$n")
    json=$OUT/json/$tool-$task-$n.json
    echo "== $tool $task $n: $*" >&2
    load=$(cut -d' ' -f1 /proc/loadavg)
    status=0
    (cd "$dir" && timeout "$LIMIT" /usr/bin/time -v "$@" >/dev/null 2>"$OUT/time.txt") || status=$?
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2/1024}' "$OUT/time.txt")
    cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.2f", s}' "$OUT/time.txt")
    wall=$(awk '/Elapsed \(wall clock\)/ {n = split($NF, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.3f", s}' "$OUT/time.txt")
    if [ "$status" -gt 1 ]; then
        echo "   exit $status; stderr:" >&2
        grep -v -E '^\s+(Command|User|System|Percent|Elapsed|Average|Maximum|Major|Minor|Voluntary|Involuntary|Swaps|File|Socket|Signals|Page|Exit)' "$OUT/time.txt" | head -5 >&2
    fi
    rm -f "$json"
    if [ "$status" != 124 ] && awk -v w="${wall:-0}" -v s="$SLOW" 'BEGIN {exit !(w <= s)}'; then
        (cd "$dir" && hyperfine --style none -N -i --warmup 1 --runs "$runs" \
            --export-json "$json" -- "$(printf '%q ' "$@")" >/dev/null 2>&1) || true
    fi
    python3 - "$json" "$tool" "$task" "$n" "$rss" "$cpu" "$wall" "$load" "$status" >>"$CSV" <<'EOF'
import json, os, sys
path, tool, task, n, rss, cpu, wall, load, status = sys.argv[1:]
if os.path.exists(path):
    r = json.load(open(path))["results"][0]
    t = r["times"]
    print(f"{tool},{task},{n},{r['mean']:.4f},{(r['stddev'] or 0):.4f},{min(t):.4f},{max(t):.4f},{len(t)},{rss},{cpu},{load},{status}")
elif status == "124":  # stopped at LIMIT: no time, only the fact
    print(f"{tool},{task},{n},,,,,0,{rss},{cpu},{load},{status}")
else:  # one slow run is the figure
    print(f"{tool},{task},{n},{float(wall or 0):.4f},0,{float(wall or 0):.4f},{float(wall or 0):.4f},1,{rss},{cpu},{load},{status}")
EOF
    tail -1 "$CSV" >&2
}

for n in $SIZES; do
    dir=$(repo "$n")
    measure meshform render "$n" "$dir" "$BIN" render . --all-clusters
    measure meshform check "$n" "$dir" "$BIN" check .
    if command -v kubectl >/dev/null && [[ " $KUSTOMIZE_SIZES " == *" $n "* ]]; then
        measure kubectl kustomize "$n" "$dir" kubectl kustomize .
    fi
    measure regorus check "$n" "$dir" "$REGO" .
done

# The diff target: two revisions of a DIFF_OBJECTS repo with DIFF_CHANGES changed objects.
dir=$(repo "$DIFF_OBJECTS" "$DIFF_CHANGES")
measure meshform diff "$DIFF_OBJECTS" "$dir" "$BIN" diff . --base HEAD~1 --head HEAD

# The Argo CD plugin: `argocd generate` of one cluster, as the cmp-server runs it.
dir=$(repo "$ARGOCD_OBJECTS")
measure meshform argocd-generate "$ARGOCD_OBJECTS" "$dir" env ARGOCD_APP_NAME=bench \
    ARGOCD_APP_SOURCE_PATH=. ARGOCD_APP_PARAMETERS='[{"name":"cluster","string":"cluster1"}]' \
    PARAM_CLUSTER=cluster1 ARGOCD_ENV_CLUSTER=cluster1 "$BIN" argocd generate

# Per-cluster cost (docs/scaling.md): one cluster's render against all clusters'.
for n in $SIZES; do
    dir=$(repo "$n")
    measure meshform render-cluster1 "$n" "$dir" "$BIN" render . --cluster cluster1
done

if [ "${WRITE_DOCS:-0}" = 1 ]; then
    cp "$CSV" docs/performance.csv
    python3 scripts/plot-performance.py docs/performance.csv docs/performance.svg
fi
echo "== results in $CSV" >&2
column -s, -t "$CSV" >&2 || cat "$CSV" >&2
