"""A small pool of worker processes that can stop one task: killed on timeout or cancellation, replaced.

`concurrent.futures.ProcessPoolExecutor` cannot cancel a task once it runs: a document that keeps a worker
busy for minutes keeps it busy after the client left, and two of them stall every rdfc verification
(issue 8, item 2). Here each worker is one process with its own pipe, so the pool knows which process runs
which task. A task that outlives its timeout, or whose caller is cancelled (the HTTP client went away),
gets its process killed; the next task starts a fresh one. Waiting on a pipe happens in a thread, so the
event loop never blocks.

Workers never outlive the node: each one asks the kernel for SIGKILL when its parent dies (Linux
PR_SET_PDEATHSIG; with forkserver the parent is the fork server, which exits when the node does, once the
worker has let go of the fork server's alive pipe), and a thread watches the node's pid
(node.crypto.parent_watch; every OS, but it needs the GIL, which a task stuck in C code may hold; the
kernel signal does not).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from typing import Any, Callable

from node.crypto.parent_watch import exit_with
from node.errors import PuenteError


class WorkerCrashed(PuenteError):
    slug = "worker-crashed"
    title = "Signing worker failed"
    status = 503


class WorkTimedOut(PuenteError):
    """The task ran past its time limit; its worker was killed."""

    slug = "work-timed-out"
    title = "Work took too long"
    status = 503


class _DeadBeforeTask(Exception):
    pass


class _Worker:
    def __init__(self, context: multiprocessing.context.BaseContext) -> None:
        tasks, child_tasks = context.Pipe(duplex=True)
        self.process = context.Process(target=_worker_main, args=(child_tasks, os.getpid()), daemon=True,
                                       name="puente-worker")
        self.process.start()
        child_tasks.close()  # the worker holds the only other end: EOF on both sides when either dies
        self.tasks: Connection = tasks

    def call(self, fn: Callable, args: tuple) -> tuple[str, Any]:
        """Blocking: send one task and wait for its outcome (run in a thread)."""
        try:
            self.tasks.send((fn, args))
        except (BrokenPipeError, ConnectionResetError):
            raise _DeadBeforeTask() from None  # the task never reached the worker: safe to retry
        return self.tasks.recv()

    def hung_up(self) -> bool:
        """An idle worker never writes: a readable pipe means EOF, i.e. the process is gone (is_alive() lags:
        with forkserver it learns of a death only when the fork server has reaped the child)."""
        try:
            return self.tasks.poll(0)
        except (OSError, EOFError):
            return True

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        try:
            self.tasks.close()
        except OSError:
            pass


class WorkerPool:
    def __init__(self, size: int, *, preload: tuple[str, ...] = ("node.crypto.signer",), start_method: str = "forkserver") -> None:
        self.size = max(1, size)
        self._context = multiprocessing.get_context(start_method)
        if start_method == "forkserver":
            self._context.set_forkserver_preload(list(preload))
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        # One thread per worker blocked on its pipe, plus spares for starting workers and for threads
        # still unwinding from a killed worker.
        self._threads = ThreadPoolExecutor(max_workers=self.size * 2 + 2, thread_name_prefix="puente-pool")
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    def pids(self) -> list[int]:
        return [w.process.pid for w in [*self._idle, *self._busy] if w.process.pid is not None]

    @property
    def closed(self) -> bool:
        return self._closed

    def saturated(self) -> bool:
        """Every worker is running a task (they are alive and working; a new task waits for one)."""
        return len(self._busy) >= self.size

    async def run(self, fn: Callable, *args: Any, timeout: float) -> Any:
        """Run fn(*args) in a worker; past `timeout` seconds the worker is killed and WorkTimedOut raised."""
        if self._closed:
            raise WorkerCrashed("the worker pool is closed")
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a semaphore belongs to one event loop (the CLI runs several in turn)
            self._loop, self._slots = loop, asyncio.Semaphore(self.size)
        async with self._slots:
            for attempt in range(2):
                worker = self._idle_worker() or await loop.run_in_executor(self._threads, _Worker, self._context)
                try:
                    status, value = await self._call(loop, worker, fn, args, timeout)
                    break
                except _DeadBeforeTask:
                    if attempt:
                        raise WorkerCrashed("a worker process died before it could take the task") from None
        if status == "error":
            raise value
        return value

    async def _call(self, loop, worker: _Worker, fn: Callable, args: tuple, timeout: float) -> tuple[str, Any]:
        self._busy.add(worker)
        healthy = False
        try:
            outcome = await asyncio.wait_for(loop.run_in_executor(self._threads, worker.call, fn, args), timeout)
            healthy = True
            return outcome
        except asyncio.TimeoutError:
            raise WorkTimedOut(f"the work took longer than {timeout:g} s and was stopped") from None
        except (EOFError, OSError):
            # The worker died under us (killed, out of memory): report it; the next task gets a new one.
            raise WorkerCrashed("a worker process died; the operation was not completed") from None
        finally:
            # Cancelled (the client went away), timed out or crashed: stop the process, never leave it burning.
            self._busy.discard(worker)
            if healthy and not self._closed:
                self._idle.append(worker)
            else:
                try:
                    await asyncio.shield(loop.run_in_executor(self._threads, worker.kill))
                except RuntimeError:  # the pool was closed meanwhile (shutdown): kill it here
                    worker.kill()

    def _idle_worker(self) -> _Worker | None:
        while self._idle:
            worker = self._idle.pop()
            if worker.process.is_alive() and not worker.hung_up():
                return worker
            worker.kill()  # died while idle (killed, out of memory): replace it, nobody's task is lost
        return None

    def close(self) -> None:
        self._closed = True
        for worker in [*self._idle, *self._busy]:
            worker.kill()
        self._idle.clear()
        self._busy.clear()
        self._threads.shutdown(wait=False, cancel_futures=True)


# -- inside the worker process ---------------------------------------------------------------------


def _worker_main(tasks: Connection, owner_pid: int) -> None:
    _die_with_owner(owner_pid)
    while True:
        try:
            fn, args = tasks.recv()
        except (EOFError, OSError):
            return  # the node closed the pool
        try:
            outcome: tuple[str, Any] = ("ok", fn(*args))
        except Exception as exc:
            outcome = ("error", exc)
        try:
            tasks.send(outcome)
        except (EOFError, OSError):
            return
        except Exception as exc:  # an unpicklable result or exception: say so, typed
            tasks.send(("error", WorkerCrashed(f"a worker could not return its result ({type(exc).__name__})")))


def _die_with_owner(owner_pid: int) -> None:
    _release_fork_server()
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            PR_SET_PDEATHSIG = 1
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass  # the watcher below still works
    exit_with(owner_pid)  # a thread watching the node's pid (pidfd, or polling): every OS, needs the GIL


def _release_fork_server() -> None:
    """Close this worker's copy of the fork server's "alive" pipe.

    The fork server exits when the node dies because its alive pipe reaches EOF, but CPython hands every
    forkserver child a copy of that pipe's write end: a worker stuck in C code (holding the GIL, so the
    watcher thread never runs) would keep the fork server alive, and with it itself, forever. Without
    the copy, the node's death ends the fork server, and PR_SET_PDEATHSIG ends the worker.
    """
    try:
        from multiprocessing import forkserver

        server = getattr(forkserver, "_forkserver", None)
        fd = getattr(server, "_forkserver_alive_fd", None)
        if isinstance(fd, int):
            os.close(fd)
            server._forkserver_alive_fd = None
    except (ImportError, OSError):
        pass
