"""Worker processes end when the process that started the pool ends, however it ended.

With the forkserver start method a pool worker is the forkserver's child, not the node's, and it holds
both ends of its own task queue and the forkserver's "alive" pipe: when the node is killed with SIGKILL
nobody closes anything, so the workers wait forever, keep the forkserver alive, which keeps the
resource tracker alive. PR_SET_PDEATHSIG cannot help (it watches the forkserver). So each worker
watches the node's process itself, through a pidfd (readable the moment that process exits; Linux 5.3+)
or, where there is none, by polling; and exits at once.
"""

from __future__ import annotations

import os
import select
import threading
import time

POLL_SECONDS = 0.5


def exit_with(owner_pid: int) -> None:
    """Pool initializer: start a daemon thread that ends this worker when `owner_pid` exits."""
    threading.Thread(target=_watch, args=(owner_pid,), name="exit-with-owner", daemon=True).start()


def _watch(owner_pid: int) -> None:
    try:
        pidfd = os.pidfd_open(owner_pid)
    except (AttributeError, OSError):
        pidfd = None
    if pidfd is None:
        while _alive(owner_pid):
            time.sleep(POLL_SECONDS)
    else:
        select.select([pidfd], [], [])  # readable once the owner has exited
    os._exit(0)  # no cleanup to do: the work in hand belongs to a process that is gone


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
