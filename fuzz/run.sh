#!/usr/bin/env bash
# Runs every fuzz target for a while (default 45 s each; `fuzz/run.sh 600`
# for a longer session). Needs `cargo install cargo-fuzz`. The fuzz crate
# uses nightly-only compiler flags; RUSTC_BOOTSTRAP lets the stable
# toolchain accept them, and `-s none` skips the sanitizer (the code under
# test is safe Rust; libFuzzer still finds panics, hangs and overflows).
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-45}
export RUSTC_BOOTSTRAP=1
# Every target must build: a run below only filters libFuzzer's output, so
# a target that failed to compile would otherwise pass unnoticed.
cargo fuzz build -s none
for target in request_parser glob rdb_loader aof_loader dispatch config lua_reply script_flags function_payload restore_payload hll replication_stream; do
  # libFuzzer adds what it finds to the first corpus directory: the scratch
  # one (ignored by git), never the committed seeds.
  mkdir -p "corpus/$target"
  seeds=()
  [ -d "seeds/$target" ] && seeds=("seeds/$target")
  echo "--- fuzzing $target for ${seconds}s"
  dict=()
  [ -f "$target.dict" ] && dict=("-dict=$target.dict")
  cargo fuzz run -s none "$target" "corpus/$target" "${seeds[@]}" -- "${dict[@]}" \
    -max_total_time="$seconds" -max_len=4096 -timeout=10 -print_final_stats=1 2>&1 |
    grep -E "^(#[0-9]+.*DONE|Done|stat::number_of_executed_units|stat::peak_rss_mb)|panicked|ERROR|SUMMARY" || true
  if [ -n "$(ls -A "artifacts/$target" 2>/dev/null)" ]; then
    echo "fuzz target $target found a failure: see fuzz/artifacts/$target" >&2
    exit 1
  fi
done
