#!/usr/bin/env bash
# Whole-command comparison of earpatch with its baselines and peers, measured
# in one run: each round runs every command once, in a fixed alternating
# order (wall time from the shell's clock, peak RSS from /usr/bin/time -f
# "%e %M"); the table gives medians, min and max over the rounds, each with
# its ratio against a baseline measured in the same run, as Markdown that can
# be pasted into the README.
#
# usage: benches/compare.sh [tiny|medium|full] [ROUNDS]      (default: medium 5)
#
# Environment:
#   CARGO_TARGET_DIR  where the release binaries are built (default: target)
#   BENCH_DATA        folder holding app.ear, update.zip and app-expanded/
#                     (default: target/bench-data/PRESET, generated on first
#                     use by gen-large); it is only read, never modified
#   COMPARE_TIMEOUT   seconds after which one timed command is stopped and its
#                     row shows "> N" (default: 600); a command that timed out
#                     is not run again in later rounds
#   TMPDIR            where the working copies go (the full preset needs about
#                     8 GB there)
# On a shared machine, run it under `nice -n 19`.
#
# Rows and what each times (everything else, e.g. making a fresh copy, is
# untimed setup):
#   cp             cp --reflink=never app.ear (page cache to page cache, no sync)
#   digest         earpatch inspect app.ear: reads and hashes every file
#   zip-whole      Info-ZIP peer, whole job: cp of the EAR, unzip of the update,
#                  for each touched module unzip it, overlay the update's files,
#                  delete its delete list's matches (find -delete), zip -r -1 it
#                  again; then zip -d of the EAR entries the application-scope
#                  delete list matches and zip -r -1 of the update's files and
#                  rebuilt modules into the copy (zip's add mode replaces
#                  same-name entries, so replaced entries need no zip -d)
#   zip-update     Info-ZIP peer, archive update only: the zip -d + zip -r of
#                  zip-whole, on a fresh copy, with the modules it rebuilt
#   plan           earpatch plan app.ear update.zip --no-digest
#   apply-o        earpatch apply app.ear update.zip -o out.ear
#   apply-warm     earpatch apply COPY update.zip, in place with history, on a
#                  copy that had one apply + rollback before the first round
#                  (warm state and index); rolled back (untimed) after each run
#   apply-cold     the same on a fresh copy with no state folder
#   verify         earpatch verify COPY (the warm copy, after its rollback);
#                  skipped when the binary has no verify command
#   unsafe-peer    unzip -o -q update.zip -d COPY-OF-EXPANDED, then per delete
#                  list find -regex ... -delete in its scope (no atomicity, no
#                  history, no checks); on a fresh copy each round
#   expanded-warm  earpatch apply COPY-OF-EXPANDED update.zip --state-dir S,
#                  warm as apply-warm; rolled back (untimed) after each run
#   cp-new, digest-new   cp and inspect of new.ear (app.ear with the update
#                  applied, made once by apply -o before the first round)
#   full-o         earpatch apply app.ear new.ear --full -o out-full.ear
#   full-inplace   earpatch apply COPY new.ear --full, in place with history,
#                  fresh copy, no state folder
#   full-rollback  earpatch rollback COPY, right after full-inplace
#   plan-10k, plan-100k   earpatch plan app.ear ENTRIES.zip --no-digest, where
#                  ENTRIES.zip adds 10,000 or 100,000 files to one web module
#                  (gen-entries)
# Ratios: archive rows against cp; expanded-warm against unsafe-peer; full rows
# against digest + digest-new + cp-new (sum of their medians); plan-100k
# against plan-10k. The lines under the table check the targets of issue 10.
#
# Needs: /usr/bin/time (apt-get install time), timeout, zip, unzip, python3.
set -euo pipefail
export LC_ALL=C # decimal points in the clock and in awk
cd "$(dirname "$0")/.."

usage() { grep -m 1 '^# usage:' "$0" | sed 's/^# //'; }
preset=${1:-medium}
rounds=${2:-5}
case $preset in
    tiny | medium | full) ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
esac
if ! [[ $rounds =~ ^[1-9][0-9]*$ ]]; then usage >&2; exit 2; fi
limit=${COMPARE_TIMEOUT:-600}
if ! [[ $limit =~ ^[1-9][0-9]*$ ]]; then echo "COMPARE_TIMEOUT must be a number of seconds" >&2; exit 2; fi
for tool in /usr/bin/time timeout unzip zip python3 cargo; do
    command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install time zip unzip python3)" >&2; exit 2; }
done

cargo build --release -q -p ear-cli -p ear-bench
bin=$(realpath "${CARGO_TARGET_DIR:-target}/release")
earpatch=$bin/earpatch
data=${BENCH_DATA:-target/bench-data/$preset}
if [ ! -e "$data/.complete-expanded" ]; then
    "$bin/gen-large" --preset "$preset" --expanded "$data"
    touch "$data/.complete" "$data/.complete-expanded"
fi
data=$(realpath "$data")
ear=$data/app.ear
update=$data/update.zip
expanded=$data/app-expanded
work=$(mktemp -d "${TMPDIR:-/tmp}/earpatch-compare.XXXXXX")
trap 'rm -rf "$work"' EXIT
log=$work/times.tsv
: >"$log"
props=META-INF/ibm-partialapp-delete.props
export ear update work props

# --- the peers, run by /usr/bin/time through bash -c --------------------------

# delete_matches DIR PROPS: delete the files under DIR whose path relative to
# DIR matches a line of the delete list PROPS (extended regexes, whole path).
delete_matches() {
    local regex
    regex=$(tr -d '\r' <"$2" | grep -v '^$' | paste -sd '|') || true
    [ -z "$regex" ] || (cd "$1" && find . -type f -regextype posix-extended -regex "\./($regex)" -delete)
}

# unsafe_peer DIR: what a script without earpatch does to an expanded application.
unsafe_peer() {
    local dir=$1 list scope
    unzip -o -q "$update" -d "$dir"
    unzip -Z1 "$update" | { grep -E "(^|/)$props\$" || true; } | while IFS= read -r list; do
        scope=${list%"$props"}
        delete_matches "$dir/${scope:-.}" "$dir/$list"
        rm -f "$dir/$list"
    done
}

# zip_whole: the Info-ZIP peer from the EAR to the updated copy $work/zip/app.ear;
# leaves the rebuilt tree in $work/zip/update and the deleted names in $work/zip/deleted.
zip_whole() {
    local d=$work/zip dir name
    rm -rf "$d"
    mkdir -p "$d/update" "$d/mod"
    cp --reflink=never "$ear" "$d/app.ear"
    unzip -Z1 "$d/app.ear" >"$d/entries"
    unzip -q "$update" -d "$d/update"
    for dir in "$d"/update/*/; do
        dir=${dir%/}
        name=${dir##*/}
        grep -qxF "$name" "$d/entries" || continue # a folder of the application scope
        unzip -q "$d/app.ear" "$name" -d "$d/mod"
        mkdir "$d/mod/$name.d"
        unzip -q "$d/mod/$name" -d "$d/mod/$name.d"
        cp -r "$dir/." "$d/mod/$name.d/"
        if [ -f "$d/mod/$name.d/$props" ]; then
            delete_matches "$d/mod/$name.d" "$d/mod/$name.d/$props"
            rm -f "$d/mod/$name.d/$props"
        fi
        rm -rf "$dir"
        (cd "$d/mod/$name.d" && zip -q -r -1 -D "$dir" .)
    done
    : >"$d/deleted"
    if [ -f "$d/update/$props" ]; then
        grep -E -x -f <(tr -d '\r' <"$d/update/$props" | grep -v '^$') "$d/entries" >"$d/deleted" || true
        rm -f "$d/update/$props"
    fi
    zip_update "$d/app.ear"
}

# zip_update EAR: the archive part of the Info-ZIP peer.
zip_update() {
    if [ -s "$work/zip/deleted" ]; then zip -q -nw -d "$1" -@ <"$work/zip/deleted"; fi
    (cd "$work/zip/update" && zip -q -r -1 -D "$1" .)
}
export -f delete_matches unsafe_peer zip_whole zip_update
strict='set -euo pipefail;' # prefix of the bash -c scripts that run them

# --- measuring ----------------------------------------------------------------

declare -A timed_out=()
# measure NAME COMMAND...: time one run; a failure stops the script with its
# stderr; a run over the time limit is logged as a timeout and not run again.
measure() {
    local name=$1 rc=0
    shift
    if [ -n "${timed_out[$name]:-}" ]; then return 1; fi
    local start=$EPOCHREALTIME
    /usr/bin/time -f "%e %M" -o "$work/t" timeout -k 10 "$limit" "$@" >"$work/out" 2>"$work/err" || rc=$?
    local end=$EPOCHREALTIME
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        timed_out[$name]=1
        echo "$name timeout" >>"$log"
        echo "  $name: stopped after $limit s" >&2
        return 1
    elif [ "$rc" -ne 0 ]; then
        echo "error: $name failed (exit $rc): $*" >&2
        cat "$work/err" >&2
        exit 1
    fi
    # /usr/bin/time's %e has 10 ms steps, too coarse for a page-cache cp;
    # the wall time is taken from the shell's microsecond clock instead (it
    # includes starting time and timeout, about a millisecond). %M: peak RSS.
    local rss
    rss=$(tail -n 1 "$work/t" | cut -d' ' -f2)
    echo "$name $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.4f", b - a }') $rss" >>"$log"
}

# quietly COMMAND...: untimed setup; a failure stops the script with its stderr.
quietly() {
    "$@" >"$work/out" 2>"$work/err" || { echo "error: setup failed: $*" >&2; cat "$work/err" >&2; exit 1; }
}

fresh_copy() { # SRC DEST: DEST and its state folder removed, then a copy of SRC
    rm -rf "$2" "$2.earpatch"
    cp --reflink=never "$1" "$2"
}

# --- header and untimed setup -------------------------------------------------

cpu=$(grep -m 1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//') || cpu=unknown
commit=$(git rev-parse --short HEAD 2>/dev/null) || commit=unknown
if ! git diff --quiet HEAD 2>/dev/null; then commit="$commit (with uncommitted changes)"; fi
module=$(unzip -Z1 "$ear" | awk '/^[^\/]+\.war$/ && !found { print; found = 1 }')
[ -n "$module" ] || { echo "error: no web module (*.war) in $ear" >&2; exit 1; }
if "$earpatch" verify --help >/dev/null 2>&1; then has_verify=1; else has_verify=; fi

echo "### earpatch compare.sh: $preset preset, $rounds round(s), alternating"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit: $commit; $("$earpatch" --version)"
echo "- machine: $(nproc) CPUs, ${cpu:-unknown}, $(uname -sr)"
mb() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }
echo "- inputs: app.ear $(mb "$ear"), $(unzip -Z1 "$ear" | wc -l) entries;" \
    "update.zip $(mb "$update"), $(unzip -Z1 "$update" | wc -l) entries;" \
    "app-expanded/ $(find "$expanded" -type f | wc -l) files; many-entry updates into $module"
[ -n "$has_verify" ] || echo "- verify: not available in this build"
echo

quietly "$earpatch" apply "$ear" "$update" -o "$work/new.ear"
quietly "$bin/gen-entries" --entries 10000 --module "$module" "$work/entries-10k.zip"
quietly "$bin/gen-entries" --entries 100000 --module "$module" "$work/entries-100k.zip"
fresh_copy "$ear" "$work/warm.ear"
quietly "$earpatch" apply "$work/warm.ear" "$update"
quietly "$earpatch" rollback "$work/warm.ear"
cp -a "$expanded" "$work/exp"
quietly "$earpatch" apply "$work/exp" "$update" --state-dir "$work/exp-state"
quietly "$earpatch" rollback "$work/exp" --state-dir "$work/exp-state"

# --- the rounds ---------------------------------------------------------------

for i in $(seq "$rounds"); do
    echo "round $i of $rounds ..." >&2
    measure cp cp --reflink=never "$ear" "$work/copy.ear" || true
    measure digest "$earpatch" inspect "$ear" || true
    measure zip-whole bash -c "$strict zip_whole" || true
    if [ -f "$work/zip/app.ear" ]; then
        cp --reflink=never "$ear" "$work/zip/only.ear"
        # shellcheck disable=SC2016 # expanded by the inner bash
        measure zip-update bash -c "$strict"' zip_update "$work/zip/only.ear"' || true
    fi
    measure plan "$earpatch" plan "$ear" "$update" --no-digest || true
    measure apply-o "$earpatch" apply "$ear" "$update" -o "$work/out.ear" || true
    if measure apply-warm "$earpatch" apply "$work/warm.ear" "$update"; then
        quietly "$earpatch" rollback "$work/warm.ear"
    fi
    fresh_copy "$ear" "$work/cold.ear"
    measure apply-cold "$earpatch" apply "$work/cold.ear" "$update" || true
    if [ -n "$has_verify" ]; then measure verify "$earpatch" verify "$work/warm.ear" || true; fi
    rm -rf "$work/peer"
    cp -a "$expanded" "$work/peer"
    # shellcheck disable=SC2016 # expanded by the inner bash
    measure unsafe-peer bash -c "$strict"' unsafe_peer "$work/peer"' || true
    if measure expanded-warm "$earpatch" apply "$work/exp" "$update" --state-dir "$work/exp-state"; then
        quietly "$earpatch" rollback "$work/exp" --state-dir "$work/exp-state"
    fi
    measure cp-new cp --reflink=never "$work/new.ear" "$work/copy-new.ear" || true
    measure digest-new "$earpatch" inspect "$work/new.ear" || true
    measure full-o "$earpatch" apply "$ear" "$work/new.ear" --full -o "$work/out-full.ear" || true
    fresh_copy "$ear" "$work/full.ear"
    if measure full-inplace "$earpatch" apply "$work/full.ear" "$work/new.ear" --full; then
        measure full-rollback "$earpatch" rollback "$work/full.ear" || true
    fi
    measure plan-10k "$earpatch" plan "$ear" "$work/entries-10k.zip" --no-digest || true
    measure plan-100k "$earpatch" plan "$ear" "$work/entries-100k.zip" --no-digest || true
    rm -f "$work/copy.ear" "$work/copy-new.ear"
done

# --- checks of the outputs (untimed) ------------------------------------------

digest_of() { # APP: the content digest inspect prints
    "$earpatch" inspect --format json "$1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["application"]["digest"])'
}
echo "checking the outputs (untimed) ..." >&2
for f in "$work/out.ear" "$work/zip/app.ear" "$work/warm.ear"; do
    [ -f "$f" ] && { unzip -tq "$f" >/dev/null || { echo "error: unzip -t fails on $f" >&2; exit 1; }; }
done
expected=$(digest_of "$work/new.ear")
checks=
for pair in "apply-o:$work/out.ear" "Info-ZIP peer:$work/zip/app.ear" "unsafe peer:$work/peer"; do
    name=${pair%%:*} path=${pair#*:}
    [ -e "$path" ] || continue
    if [ "$(digest_of "$path")" = "$expected" ]; then
        checks="$checks- $name result: same content digest as new.ear"$'\n'
    else
        checks="$checks- $name result: CONTENT DIGEST DIFFERS from new.ear"$'\n'
    fi
done

python3 - "$log" "$limit" "$module" "$checks" <<'PY'
import statistics, sys

log, limit, module, checks = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
runs, timeouts = {}, set()
for line in open(log):
    parts = line.split()
    if parts[1] == "timeout":
        timeouts.add(parts[0])
    else:
        runs.setdefault(parts[0], []).append((float(parts[1]), int(parts[2])))

def median(name):
    if name in timeouts:
        return None
    return statistics.median(s for s, _ in runs[name]) if name in runs else None

def baseline(key):
    if key == "D+D+cp":
        parts = [median(n) for n in ("digest", "digest-new", "cp-new")]
        return None if None in parts else sum(parts)
    return median(key)

ROWS = [
    ("cp", "`cp --reflink=never app.ear` (no sync)", "cp"),
    ("digest", "digest OLD: `earpatch inspect app.ear`", "cp"),
    ("zip-whole", "Info-ZIP peer, whole: cp, rebuild touched modules, `zip -d` + `zip -r`", "cp"),
    ("zip-update", "Info-ZIP peer, archive update only: `zip -d` + `zip -r`", "cp"),
    ("plan", "`earpatch plan app.ear update.zip --no-digest`", "cp"),
    ("apply-o", "`earpatch apply app.ear update.zip -o out.ear`", "cp"),
    ("apply-warm", "`earpatch apply` in place, history, warm", "cp"),
    ("apply-cold", "`earpatch apply` in place, history, cold (no state)", "cp"),
    ("verify", "`earpatch verify` (warm copy)", "cp"),
    ("unsafe-peer", "unsafe peer: `unzip -o` + `find -delete` (expanded)", "unsafe-peer"),
    ("expanded-warm", "`earpatch apply app-expanded/` in place, warm", "unsafe-peer"),
    ("cp-new", "cp NEW: `cp --reflink=never new.ear`", "cp"),
    ("digest-new", "digest NEW: `earpatch inspect new.ear`", "cp"),
    ("full-o", "`earpatch apply app.ear new.ear --full -o out.ear`", "D+D+cp"),
    ("full-inplace", "`earpatch apply` in place `new.ear --full`, cold", "D+D+cp"),
    ("full-rollback", "`earpatch rollback` of that full update", "D+D+cp"),
    ("plan-10k", f"`earpatch plan` of 10k entries into {module} `--no-digest`", "plan-10k"),
    ("plan-100k", f"`earpatch plan` of 100k entries into {module} `--no-digest`", "plan-10k"),
]
print("| command | runs | median s | min s | max s | ratio | vs | peak RSS MiB |")
print("|---|---:|---:|---:|---:|---:|---|---:|")
for key, label, base in ROWS:
    if key not in runs and key not in timeouts:
        if key != "verify":  # verify: the header says when the build lacks it
            print(f"| {label} | 0 | not run | - | - | - | {base} | - |")
        continue
    secs = [s for s, _ in runs.get(key, [])]
    rss = max((k for _, k in runs.get(key, [])), default=0) / 1024
    b = baseline(base)
    n = len(secs) + (1 if key in timeouts else 0)
    if key in timeouts:
        med = f"> {limit:.0f}"
        ratio = f"> {limit / b:.1f}" if b else "-"
        lo = f"{min(secs):.3f}" if secs else "-"
        hi = f"> {limit:.0f}"
    else:
        m = statistics.median(secs)
        med, lo, hi = f"{m:.3f}", f"{min(secs):.3f}", f"{max(secs):.3f}"
        ratio = f"{m / b:.2f}" if b else "-"
    rss_text = f"{rss:.1f}" if secs else "-"
    print(f"| {label} | {n} | {med} | {lo} | {hi} | {ratio} | {base} | {rss_text} |")

print()
print("Outputs checked after the rounds (untimed): unzip -t, and content digests:")
print(checks, end="")
print()
print("Targets of issue 10 (medians of this run):")

def check(text, value, bound):
    if value is None or bound is None:
        print(f"- {text}: not measured (missing or timed out)")
    else:
        verdict = "met" if value <= bound else "MISSED"
        print(f"- {text}: {value:.3f} s vs {bound:.3f} s, {verdict}")

cp, peer = median("cp"), median("unsafe-peer")
scale = lambda f, v: None if v is None else f * v
check("apply -o <= 2x cp", median("apply-o"), scale(2, cp))
check("in place warm <= 3x cp", median("apply-warm"), scale(3, cp))
check("expanded in place warm <= 4x unsafe peer", median("expanded-warm"), scale(4, peer))
warm, digest = median("apply-warm"), median("digest")
check("cold <= digest + warm", median("apply-cold"), None if None in (warm, digest) else warm + digest)
full = baseline("D+D+cp")
for key in ("full-o", "full-inplace", "full-rollback"):
    check(f"{key} <= 2x (digest OLD + digest NEW + cp NEW)", median(key), scale(2, full))
check("plan 100k <= 12x plan 10k", median("plan-100k"), scale(12, median("plan-10k")))
earpatch_rows = [k for k, _, _ in ROWS if k not in ("cp", "cp-new", "zip-whole", "zip-update", "unsafe-peer")]
worst = max(((max(r for _, r in runs[k]) / 1024, k) for k in earpatch_rows if k in runs), default=None)
if worst:
    verdict = "met" if worst[0] <= 64 else "MISSED"
    print(f"- peak RSS <= 64 MiB on every earpatch row: highest {worst[0]:.1f} MiB ({worst[1]}), {verdict}")
PY
