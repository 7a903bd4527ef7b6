#!/usr/bin/env bash
# Runs every cargo-fuzz target for a bounded time (not in CI).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). cargo fuzz builds with AddressSanitizer, which
# needs nightly flags: on a stable toolchain RUSTC_BOOTSTRAP=1 enables them. FUZZ_SANITIZER=none
# builds without ASan (faster to build and run; Rust code is memory-safe, and panics, hangs
# and the RSS limit are still caught).
#
# Seeds are made fresh on each run under fuzz/seeds/<target>/ from tests/adversarial/cases,
# fixtures/ and policies/; the repo-level targets (typing, policy, render) read a text bundle
# (fuzz/fuzz_targets/common.rs): `#> PATH` lines separate the files. The corpus grows in
# fuzz/corpus/<target>/. Crashes land in fuzz/artifacts/<target>/: minimize one with
# `cargo fuzz tmin <target> <file>`, keep it under tests/adversarial/fuzz/<target>/
# (tests/adversarial.rs replays it through the CLI) and fix the bug.
#
# Everything runs at the lowest priority on one thread.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
root=..
secs="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
fi
export RUSTC_BOOTSTRAP="${RUSTC_BOOTSTRAP:-1}"
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}"
export RAYON_NUM_THREADS="${RAYON_NUM_THREADS:-1}"
sanitizer="${FUZZ_SANITIZER:-address}"
nice -n 19 cargo fuzz build -O --sanitizer "$sanitizer"

# One bundle from a directory: every *.yaml / *.yml / *.j2 below it.
bundle() {
  (cd "$1" && find . -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.j2' \) | sort |
    while read -r f; do
      printf '#> %s\n' "${f#./}"
      cat "$f"
      echo
    done)
}

seeds() {
  local t=$1 out=seeds/$1 n=0
  rm -rf "$out"
  mkdir -p "$out"
  case $t in
    yaml)
      find "$root/tests/adversarial/cases" "$root/fixtures" "$root/policies" -type f \
        -name '*.yaml' | while read -r f; do
        n=$((n + 1))
        cp "$f" "$out/$n"
      done
      ;;
    config)
      find "$root/tests/adversarial/cases" "$root/fixtures" -type f -name meshform.yaml |
        while read -r f; do
          n=$((n + 1))
          cp "$f" "$out/$n"
        done
      ;;
    template)
      cp "$root"/fuzz/templates/*.j2 "$out/" 2>/dev/null || true
      ;;
    typing | render | policy)
      find "$root/fixtures" "$root/tests/adversarial/cases" -type d | while read -r d; do
        if [ -n "$(find "$d" -maxdepth 1 -type f -name '*.y*ml' -print -quit)" ]; then
          n=$((n + 1))
          bundle "$d" >"$out/$n"
        fi
      done
      if [ "$t" = policy ]; then
        # Each built-in policy with its test resources, as the repo's own policy.
        for p in "$root"/policies/*.yaml; do
          name=$(basename "$p" .yaml)
          {
            printf '#> policies/p.yaml\n'
            cat "$p"
            if [ -f "$root/policies/tests/$name/resources.yaml" ]; then
              printf '#> resources.yaml\n'
              cat "$root/policies/tests/$name/resources.yaml"
            fi
          } >"$out/policy-$name"
        done
      fi
      ;;
  esac
}

failed=()
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  seeds "$t"
  dict=()
  if [ -f "dicts/$t.dict" ]; then
    dict=(-dict="dicts/$t.dict")
  fi
  echo "== $t (${secs}s)"
  # -rss_limit_mb: the limits must keep memory bounded; -timeout: no input may take long.
  if ! nice -n 19 cargo fuzz run -O --sanitizer "$sanitizer" "$t" "corpus/$t" "seeds/$t" -- \
      -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
      -print_final_stats=1 "${dict[@]}"; then
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "crashes in: ${failed[*]} (see fuzz/artifacts/)" >&2
  exit 1
fi
echo "no crashes"
