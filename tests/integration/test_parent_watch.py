"""A pool worker ends when the process that owns the pool ends (node/crypto/parent_watch.py), through a pidfd
and, on kernels without pidfd_open, by polling."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

CHILD = """
import os, sys, time
if sys.argv[2] == "poll":
    del os.pidfd_open  # a kernel without pidfd: the polling path
from node.crypto.parent_watch import exit_with
exit_with(int(sys.argv[1]))
print("watching", flush=True)
time.sleep(120)
"""


@pytest.mark.parametrize("mode", ["pidfd", "poll"])
def test_a_worker_exits_when_its_owner_is_killed(mode):
    owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    worker = subprocess.Popen([sys.executable, "-c", CHILD, str(owner.pid), mode], stdout=subprocess.PIPE, text=True)
    try:
        assert worker.stdout.readline().strip() == "watching"
        assert worker.poll() is None  # alive while the owner is
        owner.kill()
        owner.wait(timeout=10)
        assert worker.wait(timeout=10) == 0  # exits on its own, promptly
    finally:
        for process in (owner, worker):
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)


def test_a_worker_keeps_running_while_its_owner_lives():
    owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    worker = subprocess.Popen([sys.executable, "-c", CHILD, str(owner.pid), "poll"], stdout=subprocess.PIPE, text=True)
    try:
        assert worker.stdout.readline().strip() == "watching"
        time.sleep(1.5)  # three polling rounds
        assert worker.poll() is None
    finally:
        for process in (owner, worker):
            process.kill()
            process.wait(timeout=10)
