#!/usr/bin/env bash
# Times `eastest wbxml decode/encode` beside libwbxml's wbxml2xml/xml2wbxml on
# the same large Sync response (about 5 MB of WBXML), and reports peak memory.
#
# Usage: scripts/bench-cli.sh [RUNS]      (default 10 runs per command)
# Needs: python3, libwbxml2-utils, GNU time (package `time`); hyperfine is
# used when installed (package `hyperfine`) for a fuller statistical report.
# Writes its inputs to bench-data/ (ignored by git) and its outputs to a tmpfs
# (/dev/shm) when there is one, so the figures are the codecs', not the disk's.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
for tool in python3 wbxml2xml xml2wbxml /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install python3 libwbxml2-utils time)" >&2; exit 2; }
done
cargo build --release --quiet
bin=target/release/eastest
mkdir -p bench-data
xml=bench-data/sync-response.xml
wbxml=bench-data/sync-response.wbxml
python3 scripts/gen-sync-response.py > "$xml"
"$bin" wbxml encode --protocol 14.1 "$xml" -o "$wbxml"
# libwbxml must produce the very same bytes, or the comparison is unfair.
xml2wbxml -n -a -o bench-data/libwbxml.wbxml "$xml" >/dev/null
cmp -s bench-data/libwbxml.wbxml "$wbxml" || { echo "libwbxml and eastest encode the sample differently" >&2; exit 1; }
size=$(stat -c %s "$wbxml")
out=bench-data
[ -d /dev/shm ] && out=$(mktemp -d /dev/shm/eastest-bench.XXXXXX) && trap 'rm -rf "$out"' EXIT
printf 'sample: %s bytes of WBXML, %s bytes of XML\n\n' "$size" "$(stat -c %s "$xml")"

# mean wall time in seconds over $runs runs of "$@"
mean_time() {
  local start end
  start=$(date +%s%N)
  for _ in $(seq "$runs"); do "$@" >/dev/null 2>&1; done
  end=$(date +%s%N)
  echo "scale=4; ($end - $start) / $runs / 1000000000" | bc
}
peak_kb() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }

declare -A cmd
cmd[eastest-decode]="$bin wbxml decode --protocol 14.1 $wbxml -o $out/out-eastest.xml"
cmd[libwbxml-decode]="wbxml2xml -l ACTIVESYNC -o $out/out-libwbxml.xml $wbxml"
cmd[eastest-encode]="$bin wbxml encode --protocol 14.1 $xml -o $out/out-eastest.wbxml"
cmd[libwbxml-encode]="xml2wbxml -n -a -o $out/out-libwbxml.wbxml $xml"

printf '%-16s %10s %12s %14s\n' command "mean (s)" "MB/s (WBXML)" "peak RSS (MB)"
declare -A secs
for name in eastest-decode libwbxml-decode eastest-encode libwbxml-encode; do
  # shellcheck disable=SC2086
  t=$(mean_time ${cmd[$name]})
  # shellcheck disable=SC2086
  kb=$(peak_kb ${cmd[$name]})
  secs[$name]=$t
  printf '%-16s %10s %12.1f %14.1f\n' "$name" "$t" "$(echo "$size / $t / 1000000" | bc -l)" "$(echo "$kb / 1024" | bc -l)"
done
printf '\nspeed-up over libwbxml: decode %.1fx, encode %.1fx\n' \
  "$(echo "${secs[libwbxml-decode]} / ${secs[eastest-decode]}" | bc -l)" \
  "$(echo "${secs[libwbxml-encode]} / ${secs[eastest-encode]}" | bc -l)"
if command -v hyperfine >/dev/null; then
  echo
  hyperfine --warmup 2 --runs "$runs" -N "${cmd[eastest-decode]}" "${cmd[libwbxml-decode]}" \
    "${cmd[eastest-encode]}" "${cmd[libwbxml-encode]}"
fi
