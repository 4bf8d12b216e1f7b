"""How many threads ddcodec computes with, and the one place that bounds them.

One setting: the `threads` option, else $DDCODEC_THREADS, else DEFAULT. Inside `bounded`, torch's
intra-op threads (when torch is loaded), every BLAS pool and every OpenMP runtime in the process hold
at most that many threads; the FFTs take it as scipy.fft's `workers`. The numba kernels are serial.

The default is one thread, by measurement (bench/RESULTS.md, "Speed"): on 2 cores one thread fits as fast
as two alone (the networks are small batched matmuls), and threads that wait for a descheduled sibling
spin, so two threads beside any other busy process ran many times slower. Decoding gives the same bytes
whatever the setting; encoding does not (torch's matmuls round differently with another thread count).
"""

import contextlib
import functools
import os
import sys
from collections.abc import Iterator

import threadpoolctl

from codec.errors import SettingError

ENV = "DDCODEC_THREADS"
DEFAULT = 1


def check(threads: int | None) -> int | None:
    """`threads` if it is None or a positive int; ValueError otherwise."""
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads must be a positive integer or None, got {threads!r}")
    return threads


def resolve(threads: int | None) -> int:
    """The thread count in force: `threads`, else $DDCODEC_THREADS, else DEFAULT.

    A bad $DDCODEC_THREADS raises SettingError, which the CLI reports in one line like any bad input."""
    if threads is not None:
        return check(threads)
    text = os.environ.get(ENV, "").strip()
    if not text:
        return DEFAULT
    try:
        return check(int(text))
    except ValueError:
        raise SettingError(f"{ENV}={text!r} is not a positive integer") from None


@functools.cache
def _pools(torch_loaded: bool) -> threadpoolctl.ThreadpoolController:
    """The process's BLAS and OpenMP pools, found once (a search takes 1.3 ms, where a spoken digit decodes in
    4.3 ms) and again when torch, which brings its own OpenMP runtime, has been loaded since."""
    return threadpoolctl.ThreadpoolController()


@contextlib.contextmanager
def bounded(threads: int | None) -> Iterator[int]:
    """Inside the block, torch, BLAS and OpenMP compute with at most resolve(threads) threads; yields that
    count (scipy.fft's `workers`). Each pool's own setting is restored after."""
    count = resolve(threads)
    torch = sys.modules.get("torch")  # bounded only where loaded: decoding never imports it
    previous = torch.get_num_threads() if torch else None
    with _pools(torch is not None).limit(limits=count):
        if torch:
            torch.set_num_threads(count)
        try:
            yield count
        finally:
            if torch:
                torch.set_num_threads(previous)
