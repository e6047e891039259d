"""Start ``ipsis-conformance serve`` as a real process and read what it prints."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class ServeProcess:
    process: subprocess.Popen[str]
    base_url: str
    banner: str
    tokens: dict[str, str] = field(default_factory=dict)  # label -> value, when printed


@contextmanager
def serve_process(*args: str, timeout: float = 15.0) -> Iterator[ServeProcess]:
    """Run ``serve --port 0 ARGS`` until the block ends; parse its URL and printed tokens."""
    command = [sys.executable, "-m", "conformance", "serve", "--port", "0", *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines: list[str] = []
        deadline = time.monotonic() + timeout
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                raise AssertionError(f"serve exited early: {process.wait()} {process.stderr and process.stderr.read()}")
            lines.append(line.rstrip("\n"))
            if line.startswith("Ctrl-C"):
                break
        banner = "\n".join(lines)
        url = re.search(r"on (http://\S+)", banner)
        assert url, banner
        tokens = dict(re.findall(r"^  (\S+)\s+(ref-\S+)\s", banner, flags=re.MULTILINE))
        yield ServeProcess(process, url.group(1), banner, tokens)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
