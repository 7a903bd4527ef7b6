#!/usr/bin/env bash
# Runs every cargo-fuzz target for a bounded time (not in CI by default).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). cargo fuzz builds with sanitizers, which need
# nightly flags: on a stable toolchain RUSTC_BOOTSTRAP=1 enables them. Crashes land in
# fuzz/artifacts/<target>/; keep each as a regression input under
# tests/adversarial/fuzz/<target>/ (tests/adversarial.rs replays them) and fix the bug.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
fi
export RUSTC_BOOTSTRAP="${RUSTC_BOOTSTRAP:-1}"
cargo fuzz build -O
failed=()
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  seeds=()
  # The adversarial corpus seeds the YAML-shaped targets.
  if [ "$t" = yaml ] || [ "$t" = config ]; then
    seeds=(../tests/adversarial/cases)
  fi
  echo "== $t (${secs}s)"
  # -rss_limit_mb: the limits must keep memory bounded; -timeout: no input may take long.
  if ! cargo fuzz run -O "$t" "corpus/$t" "${seeds[@]}" -- \
      -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
      -print_final_stats=1; then
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "crashes in: ${failed[*]} (see fuzz/artifacts/)" >&2
  exit 1
fi
echo "no crashes"
