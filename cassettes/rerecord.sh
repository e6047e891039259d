#!/usr/bin/env bash
# Re-record the shipped cassettes from the embedded reference LMS, in one command:
#     bash cassettes/rerecord.sh
# Needed after a change to the spec, the suite or its checks (a replay then reports a stale cassette).
set -euo pipefail
cd "$(dirname "$0")/.."
seed=20261203
reports=$(mktemp -d)
trap 'rm -rf "$reports"' EXIT

record() {  # record FOLDER EXPECTED_EXIT [run options...]
    local folder=$1 expected=$2
    shift 2
    set +e
    python -m conformance run --seed "$seed" --scrub-host --record "cassettes/$folder" \
        --report-dir "$reports/$folder" "$@" > "$reports/$folder.log" 2>&1
    local code=$?
    set -e
    if [ "$code" != "$expected" ]; then
        echo "recording cassettes/$folder exited $code, expected $expected:" >&2
        tail -n 30 "$reports/$folder.log" >&2
        exit 1
    fi
    echo "recorded cassettes/$folder (exit $code)"
}

record reference 0
record reference-null-end-of-course 1 --fault null-end-of-course

