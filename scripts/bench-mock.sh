#!/usr/bin/env bash
# Load benchmark of the mock EAS server (benches/mock_load.rs): Sync
# throughput and latency at several device counts, then 10,000 idle Pings
# (resident memory, wake-up), with the load average before each run so the
# figures can be judged (the benchmark shares the machine's cores).
#
# Usage: scripts/bench-mock.sh [SECONDS]     (default 10 s per Sync run)
# Prints every run's full report, then the RESULT lines together.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
# Built once: every run of the series measures the same build.
exe=$(cargo bench --bench mock_load --no-run 2>&1 | sed -n 's/^ *Executable .*(\(.*\))$/\1/p' | tail -1)
[ -x "$exe" ] || { echo "could not build benches/mock_load.rs" >&2; exit 1; }
results=$(mktemp)
trap 'rm -f "$results"' EXIT

run() {
  echo
  echo "== mock_load $* (uptime: $(uptime | sed 's/.*load average/load average/'))"
  "$exe" "$@" | tee -a "$results"
}

for devices in 1 16 64 256; do
  run sync --devices "$devices" --seconds "$seconds"
done
run idle-ping --count 10000
# The same with each device's set-up connection closed before its Ping: the
# "set up" figure is then the devices' state alone.
run idle-ping --count 10000 --reconnect

echo
echo "== summary"
grep '^RESULT' "$results"
