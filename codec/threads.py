"""How many threads ddcodec computes with: the `threads` option, else $DDCODEC_THREADS, else every core.

It bounds torch's intra-op threads while fitting and scipy.fft's workers in the STFTs,
so that several files coded in parallel do not oversubscribe the cores. Decoding does not
depend on it (every FFT is computed alone); encoding does, as torch's matmuls round
differently with another thread count and the fit lands elsewhere.
"""

import os

from codec.errors import SettingError
from codec.spectrum import ALL_CORES

ENV = "DDCODEC_THREADS"


def check(threads: int | None) -> int | None:
    """`threads` if it is None or a positive int; ValueError otherwise."""
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads must be a positive integer or None, got {threads!r}")
    return threads


def resolve(threads: int | None) -> int | None:
    """The thread count in force: `threads`, else $DDCODEC_THREADS, else None (every core).

    A bad $DDCODEC_THREADS raises SettingError, which the CLI reports in one line like any bad input."""
    if threads is not None:
        return check(threads)
    text = os.environ.get(ENV, "").strip()
    if not text:
        return None
    try:
        return check(int(text))
    except ValueError:
        raise SettingError(f"{ENV}={text!r} is not a positive integer") from None


def fft_workers(threads: int | None) -> int:
    """scipy.fft's `workers` for a thread setting."""
    resolved = resolve(threads)
    return ALL_CORES if resolved is None else resolved


def decode_workers(threads: int | None) -> int:
    """scipy.fft's `workers` for decoding: as fft_workers, but one where no count is set. The decoder's transforms
    hold one segment's frames, between compiled kernels, and waking scipy's thread pool for each costs more than
    it saves (2 cores, 10 s excerpts, three interleaved rounds: 16 kHz speech 244-277x -> 303-316x real time,
    44.1/48 kHz stereo music 122-124x both ways; bench/RESULTS.md, "Threads for decoding")."""
    resolved = resolve(threads)
    return 1 if resolved is None else resolved
