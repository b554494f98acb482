#!/usr/bin/env bash
# Builds dtcp and runs every test suite: unit and packet-level tests,
# integration tests on net_tap and net_null (root: they make their own
# network namespaces), the unit tests again under ASan + UBSan, and a
# minute of libFuzzer over frames (clang, ASan + UBSan) when clang is here.
#   DTCP_FUZZ_SECONDS=N   how long the fuzzer runs (default 60, 0 to skip it)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup-deps.sh
jobs=$(nproc)

scripts/build.sh build
scripts/build.sh build-asan -Db_sanitize=address,undefined -Db_lundef=false \
	-Dintegration=false -Dbuildtype=debug

status=0
meson test -C build --num-processes "$jobs" --print-errorlogs || status=1
# LeakSanitizer stays on: the suites free everything, EAL included.
ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	meson test -C build-asan --suite unit --num-processes "$jobs" --print-errorlogs || status=1

# libFuzzer over frames into one worker (test/fuzz): its own build with
# clang, ASan + UBSan, the library instrumented for coverage. It counts as
# one suite: a crash, a sanitizer report, a leak, a broken invariant or a
# timeout fails it, and the input that did it is kept in build-fuzz/.
fuzz=SKIP
fuzz_seconds=${DTCP_FUZZ_SECONDS:-60}
if [ "$fuzz_seconds" -gt 0 ] && command -v clang >/dev/null && command -v clang++ >/dev/null; then
	fuzz=FAIL
	fuzz_log=build-fuzz/meson-logs/fuzz.log
	fuzz_built=yes
	if [ ! -f build-fuzz/build.ninja ]; then
		CC=clang CXX=clang++ meson setup build-fuzz -Db_sanitize=address,undefined \
			-Db_lundef=false -Dintegration=false -Dc_args=-fsanitize=fuzzer-no-link ||
			fuzz_built=no
	fi
	if [ "$fuzz_built" = yes ] && ! ninja -C build-fuzz -t query test/fuzz/fuzz_frames >/dev/null 2>&1; then
		echo "fuzz: build-fuzz has no fuzz_frames target (no libFuzzer for clang); skipped"
		fuzz=SKIP
	elif [ "$fuzz_built" = yes ] && ninja -C build-fuzz test/fuzz/fuzz_frames; then
		corpus=$(mktemp -d)
		cp test/fuzz/corpus/* "$corpus"/
		mkdir -p build-fuzz/fuzz-artifacts
		echo "fuzz: fuzz_frames for ${fuzz_seconds} s (log in $fuzz_log)"
		fuzz_rc=0
		ASAN_OPTIONS=detect_leaks=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
			build-fuzz/test/fuzz/fuzz_frames -max_total_time="$fuzz_seconds" \
			-rss_limit_mb=4096 -timeout=10 -print_final_stats=1 \
			-artifact_prefix=build-fuzz/fuzz-artifacts/ "$corpus" >"$fuzz_log" 2>&1 ||
			fuzz_rc=$?
		rm -rf "$corpus"
		grep -E '^#[0-9]+[[:space:]]+DONE|^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)|^fuzz_frames:' \
			"$fuzz_log" || true
		if [ "$fuzz_rc" -eq 0 ] && ! grep -qE 'runtime error:|ERROR: [A-Za-z]*Sanitizer|ERROR: libFuzzer' "$fuzz_log"; then
			fuzz=OK
		else
			echo "fuzz: FAILED (exit status $fuzz_rc); the report:" >&2
			grep -E -A40 'runtime error:|ERROR: |fuzz_frames: ' "$fuzz_log" | head -80 >&2 || true
			grep -E 'Test unit written to' "$fuzz_log" >&2 ||
				echo "fuzz: no input was written; see $fuzz_log" >&2
			echo "fuzz: replay with build-fuzz/test/fuzz/fuzz_frames <input>" \
				"(DTCP_FUZZ_TRACE=1 prints what each record did)" >&2
		fi
	else
		echo "fuzz: the clang build failed" >&2
	fi
	if [ "$fuzz" = FAIL ]; then
		status=1
	fi
elif [ "$fuzz_seconds" -gt 0 ]; then
	echo "fuzz: no clang here; skipped"
fi

# One closing line over every run: the meson suites, then the fuzzer.
python3 - "$fuzz" build/meson-logs/testlog.json build-asan/meson-logs/testlog.json <<'PY'
import json, sys
ok = bad = skip = 0
results = [sys.argv[1]]
for path in sys.argv[2:]:
    for line in open(path):
        results.append(json.loads(line)["result"])
for r in results:
    if r in ("OK", "EXPECTEDFAIL"):
        ok += 1
    elif r == "SKIP":
        skip += 1
    else:
        bad += 1
print(f"{ok} passed, {bad} failed, {skip} skipped")
PY
exit $status
