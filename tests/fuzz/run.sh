#!/usr/bin/env bash
# Runs one libFuzzer campaign: tests/fuzz/run.sh TARGET SECONDS [BUILD_DIR]
# The seed corpus tests/fuzz/corpus/TARGET is copied to a temporary directory first, so the
# repository's corpus only grows when someone copies new inputs in on purpose (set
# AKAMU_FUZZ_KEEP=1 to keep the work corpus; its path is printed). Prints the executions and
# exec/s; exits non-zero on a crash, a leak, a timeout or an out-of-memory, with the input's path
# in the output (kept under the work directory). BUILD_DIR defaults to build-fuzz.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
target="${1:?usage: run.sh TARGET SECONDS [BUILD_DIR]}"
seconds="${2:?usage: run.sh TARGET SECONDS [BUILD_DIR]}"
build="${3:-$here/../../build-fuzz}"
bin="$build/bin/${target}_fuzz"
[[ -x "$bin" ]] || { echo "run.sh: $bin not built (cmake --build <dir> --target akamu_fuzz)" >&2; exit 2; }

# Largest input worth trying: a bit above each parser's interesting sizes (an ML-DSA-87 CSR is
# ~7.5 KB, the server's header limit 16 KiB, the http-01 body limit here 512 bytes).
case "$target" in
  base64url) max_len=1024 ;;
  identifier_policy) max_len=2048 ;;
  strict_json | jwk | dns_wire | http01_response) max_len=4096 ;;
  jws | toml_config) max_len=8192 ;;
  csr | pem) max_len=16384 ;;
  http_request) max_len=20000 ;;
  *) max_len=4096 ;;
esac

work="$(mktemp -d "${TMPDIR:-/tmp}/akamu-fuzz-$target.XXXXXX")"
mkdir -p "$work/corpus" "$work/artifacts"
if [[ -d "$here/corpus/$target" ]]; then cp -r "$here/corpus/$target/." "$work/corpus/"; fi
args=(-max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048
      -print_final_stats=1 -artifact_prefix="$work/artifacts/")
if [[ -f "$here/$target.dict" ]]; then args+=(-dict="$here/$target.dict"); fi

echo "run.sh: $target for ${seconds}s, work directory $work"
set +e
# Sanitizer reports must stop the run (UBSan is built with -fno-sanitize-recover already).
ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}" \
  "$bin" "${args[@]}" "$work/corpus" >"$work/log" 2>&1
rc=$?
set -e
grep -E '^(INFO: Seed|#[0-9]+ +(INITED|DONE))' "$work/log" | tail -n 3 || true
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log")
units=$(find "$work/corpus" -type f | wc -l)
echo "run.sh: $target executions=${execs:-?} exec/s=${rate:-?} corpus=$units rc=$rc"
if ((rc != 0)); then
  tail -n 60 "$work/log"
  for f in "$work"/artifacts/*; do [[ -e "$f" ]] && echo "run.sh: CRASH INPUT $f"; done
  echo "run.sh: $target FAILED (log $work/log)"
  exit 1
fi
if [[ "${AKAMU_FUZZ_KEEP:-0}" == 1 ]]; then
  echo "run.sh: work corpus kept in $work/corpus"
else
  rm -rf "$work"
fi
