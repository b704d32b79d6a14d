"""Between nodes the process gives freed memory back to the system (retail_forecasting.memory,
docs/scale.md): without it glibc keeps freed heap pages, and every node's peak comes on top of
what the earlier nodes left behind."""

from __future__ import annotations

import subprocess
import sys

import pytest

from retail_forecasting.memory import ReleaseMemoryHook
from retail_forecasting.settings import HOOKS

SCRIPT = """
from pathlib import Path
from retail_forecasting.memory import release_memory

def rss_mib():
    status = Path("/proc/self/status").read_text().splitlines()
    return int(next(s for s in status if s.startswith("VmRSS")).split()[1]) // 1024

before = rss_mib()
blocks = [bytearray(64 * 1024) for _ in range(3000)]  # ~190 MiB of heap blocks
last = blocks[-1]  # the top of the heap stays in use: malloc cannot shrink the heap by itself
del blocks
held = rss_mib()
release_memory()
print(before, held, rss_mib())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_release_memory_gives_freed_heap_pages_back():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    before, held, after = map(int, result.stdout.split())
    assert held - before > 150  # freed, yet still resident
    assert after - before < 30, (before, held, after)


def test_the_project_releases_memory_before_every_node():
    assert any(isinstance(hook, ReleaseMemoryHook) for hook in HOOKS)
