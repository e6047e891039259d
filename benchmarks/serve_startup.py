"""Benchmark (not a test): wall time from `ipsis-conformance serve` to its first answer.

python benchmarks/serve_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time

import httpx


def one_start() -> float:
    started = time.perf_counter()
    command = [sys.executable, "-m", "conformance", "serve", "--port", "0"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as process:
        assert process.stdout is not None
        url = None
        for line in process.stdout:
            found = re.search(r"on (http://\S+)", line)
            if found:
                url = found.group(1)
                break
        if url is None:
            raise SystemExit("serve printed no URL")
        while True:
            try:
                if httpx.get(url + "/d2l/api/versions/", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.01)
        elapsed = time.perf_counter() - started
        process.terminate()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    runs = [one_start() for _ in range(parser.parse_args().runs)]
    print(
        f"serve start to first answer over {len(runs)} runs: "
        f"min {min(runs):.2f} s, median {statistics.median(runs):.2f} s, max {max(runs):.2f} s"
    )


if __name__ == "__main__":
    main()
