"""The worker pool: running one function over many inputs on several cores, when there is enough
work to pay for the processes' start-up, and making sure no worker outlives the build."""

from __future__ import annotations

import ctypes
import multiprocessing
import multiprocessing.process
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

PARALLEL_MIN_CHARACTERS = 200_000  # below this much text to render, worker start-up costs more than it saves


def available_cores() -> int:
    """The cores this process may run on: more rendering processes than that only cost memory."""
    if hasattr(os, "process_cpu_count"):  # Python 3.13
        return os.process_cpu_count() or 1
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def die_with_parent() -> None:
    """Run in each rendering worker: end it when the build process dies, even by `kill -9`, which
    would otherwise leave it blocked forever on the pipe to its parent. On Linux the kernel kills it
    (PR_SET_PDEATHSIG); everywhere a thread also waits for the parent's end and exits."""
    if sys.platform == "linux":
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # no prctl: the thread below still notices
    parent = multiprocessing.parent_process()
    if parent is None:
        return
    if not parent.is_alive():  # it died before the signal was asked for
        os._exit(1)
    threading.Thread(target=_exit_when_gone, args=(parent,), name="parent-watch", daemon=True).start()


_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _exit_when_gone(parent: multiprocessing.process.BaseProcess) -> None:
    parent.join()  # waits on a pipe that the parent's end closes
    os._exit(1)


def run_each(
    work: Callable[[Item], Result],
    items: Sequence[Item],
    size: Callable[[Item], int],
    jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[Result]:
    """`work` of each item, in order: in up to `jobs` processes (never more than the cores) when
    there are two items or more and their `size`s add up to PARALLEL_MIN_CHARACTERS, else here.
    `work` must be a module-level function (or a partial of one) for the workers to receive it."""
    workers = min(jobs, available_cores()) if jobs is not None else available_cores()
    if len(items) < 2 or sum(size(item) for item in items) < PARALLEL_MIN_CHARACTERS:
        workers = 1
    results: list[Result] = []
    if workers > 1:
        # the largest items first, one at a time: the last to finish is then a small one, and no
        # core waits long for another at the end (the results come back in the items' order)
        order = sorted(range(len(items)), key=lambda index: -size(items[index]))
        by_index: dict[int, Result] = {}
        with ProcessPoolExecutor(max_workers=min(workers, len(items)), initializer=die_with_parent) as pool:
            for index, result in zip(order, pool.map(work, [items[i] for i in order]), strict=True):
                by_index[index] = result
                if progress:
                    progress(1)
        return [by_index[index] for index in range(len(items))]
    for item in items:
        results.append(work(item))
        if progress:
            progress(1)
    return results
