#!/usr/bin/env bash
# Whole-command benchmark of `earpatch apply` against `cp` of the same EAR and
# against the naive approach (unzip, apply, zip -r with Info-ZIP), measured in
# one run, alternating, with /usr/bin/time (wall time and peak RSS).
#
# usage: benches/apply-vs-cp.sh [medium|full] [ROUNDS]
# Inputs are generated (deterministically) into target/bench-data/PRESET on
# first use. Needs: /usr/bin/time, unzip, zip, python3 (for the medians).
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-medium}
rounds=${2:-5}
for tool in /usr/bin/time unzip zip python3; do
    command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install time unzip zip python3)" >&2; exit 2; }
done
cargo build --release -q -p ear-cli -p ear-bench
data=target/bench-data/$preset
if [ ! -e "$data/.complete-expanded" ]; then
    ./target/release/gen-large --preset "$preset" --expanded "$data"
    touch "$data/.complete" "$data/.complete-expanded"
fi
ear=$data/app.ear
update=$data/update.zip
work=$(mktemp -d "${TMPDIR:-/tmp}/earpatch-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
earpatch=./target/release/earpatch
log=$work/times.tsv
: > "$log"

measure() { # name command...
    local name=$1; shift
    /usr/bin/time -f "%e %M" -o "$work/t" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
    echo "$name $(cat "$work/t")" >> "$log"
}

naive() { # unzip the EAR, apply the update to the touched modules, zip everything again
    local d=$work/naive
    rm -rf "$d" "$work/naive.ear"; mkdir -p "$d/app" "$d/update"
    unzip -q "$ear" -d "$d/app"
    unzip -q "$update" -d "$d/update"
    for m in $(cd "$d/update" && ls -d *.war *.jar 2>/dev/null); do
        [ -f "$d/app/$m" ] || continue
        mkdir -p "$d/m"; rm -rf "$d/m"/*
        unzip -q "$d/app/$m" -d "$d/m"
        cp -r "$d/update/$m/." "$d/m/"
        if [ -f "$d/m/META-INF/ibm-partialapp-delete.props" ]; then
            (cd "$d/m" && find . -type f | sed 's|^\./||' | grep -E -x -f META-INF/ibm-partialapp-delete.props | xargs -r rm -f
             rm -f META-INF/ibm-partialapp-delete.props)
        fi
        rm -f "$d/app/$m"; (cd "$d/m" && zip -q -r -1 "$d/app/$m" .)
        rm -rf "$d/update/$m"
    done
    cp -r "$d/update/." "$d/app/"
    if [ -f "$d/app/META-INF/ibm-partialapp-delete.props" ]; then
        (cd "$d/app" && find . -type f | sed 's|^\./||' | grep -E -x -f META-INF/ibm-partialapp-delete.props | xargs -r rm -f
         rm -f META-INF/ibm-partialapp-delete.props)
    fi
    (cd "$d/app" && zip -q -r "$work/naive.ear" .)
}
export -f naive
export ear update work

in_place() { # copy (not timed), then apply in place with history
    rm -rf "$work/inplace.ear" "$work/inplace.ear.earpatch"
    cp "$ear" "$work/inplace.ear"
    measure "apply-in-place" "$earpatch" apply "$work/inplace.ear" "$update"
}

expanded() { # reset the expanded copy (not timed), then apply in place through the journal
    if [ ! -d "$work/exp" ]; then cp -r "$data/app-expanded" "$work/exp"; fi
    measure "apply-expanded" "$earpatch" apply "$work/exp" "$update" --state-dir "$work/exp-state"
    "$earpatch" rollback "$work/exp" --state-dir "$work/exp-state" >/dev/null
}

for i in $(seq "$rounds"); do
    measure cp cp --reflink=never "$ear" "$work/copy.ear"
    measure "apply-o" "$earpatch" apply "$ear" "$update" -o "$work/out.ear"
    measure "plan" "$earpatch" plan "$ear" "$update" --no-digest
    in_place
    expanded
    [ "$i" -le 2 ] && measure naive bash -c naive
    rm -f "$work/copy.ear" "$work/out.ear"
done
unzip -tq "$work/inplace.ear" >/dev/null && echo "unzip -t: the applied EAR tests OK"

python3 - "$log" "$(stat -c %s "$ear")" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
by = {}
for name, secs, kb in rows:
    by.setdefault(name, []).append((float(secs), int(kb)))
cp = statistics.median(s for s, _ in by["cp"])
print(f"EAR: {int(sys.argv[2]) / 1e6:.0f} MB")
print(f"{'command':<16}{'runs':>5}{'median s':>10}{'x cp':>8}{'peak RSS MiB':>14}")
for name in ["cp", "plan", "apply-o", "apply-in-place", "apply-expanded", "naive"]:
    if name not in by: continue
    secs = statistics.median(s for s, _ in by[name])
    rss = max(k for _, k in by[name]) / 1024
    print(f"{name:<16}{len(by[name]):>5}{secs:>10.2f}{secs / cp:>8.2f}{rss:>14.1f}")
PY
