#!/usr/bin/env bash
# Builds dtcp and runs every test suite: unit and packet-level tests,
# integration tests on net_tap and net_null (root: they make their own
# network namespaces), and the unit tests again under ASan + UBSan.
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

# One closing line over both runs.
python3 - build/meson-logs/testlog.json build-asan/meson-logs/testlog.json <<'PY'
import json, sys
ok = bad = skip = 0
for path in sys.argv[1:]:
    for line in open(path):
        r = json.loads(line)["result"]
        if r in ("OK", "EXPECTEDFAIL"):
            ok += 1
        elif r == "SKIP":
            skip += 1
        else:
            bad += 1
print(f"{ok} passed, {bad} failed, {skip} skipped")
PY
exit $status
