"""The streaming decoder: an open .ddc stream that yields audio blocks (codec.open).

The whole payload is read and checked when the stream is opened (it is small next to
the audio, and a corrupt file must fail before any audio is produced); the audio is
then made block by block, so memory follows one run of segments, not the file.
"""

import os
from collections.abc import Iterator
from typing import BinaryIO

import numpy as np

from codec import bitstream, limit, modes, resample
from codec import threads as thread_setting
from codec.decoder.runs import iter_runs


def _bounded(blocks: Iterator[np.ndarray], threads: int) -> Iterator[np.ndarray]:
    """The blocks, made with the process's BLAS and OpenMP pools bounded to `threads` (codec.threads)."""
    with thread_setting.bounded(threads):
        yield from blocks


class Reader:
    """A decoded .ddc stream. Iterating yields (frames, channels) float32 blocks, not clipped, whose
    concatenation is exactly `frames` long; each iteration decodes afresh (the same bytes every time).

    Use as a context manager or call close(); the source file itself is closed once its payload is read.
    """

    def __init__(self, source: str | os.PathLike | BinaryIO, threads: int | None = None) -> None:
        if isinstance(source, str | os.PathLike):
            with open(source, "rb") as fileobj:
                self.header, exponents, codes = bitstream.read(fileobj)
        else:
            self.header, exponents, codes = bitstream.read(source)
        self._payload: tuple[np.ndarray, list[np.ndarray]] | None = (exponents, codes)
        self.mode = modes.for_header(self.header)
        self._threads = thread_setting.resolve(threads)

    @property
    def sample_rate(self) -> int:
        return self.header.sample_rate

    @property
    def channels(self) -> int:
        return self.header.channels

    @property
    def frames(self) -> int:
        return self.header.frames

    @property
    def duration(self) -> float:
        """Seconds of audio."""
        return self.header.duration

    def __iter__(self) -> Iterator[np.ndarray]:
        if self._payload is None:
            raise ValueError("the stream is closed")
        per_segment = self.mode.values_per_segment(self.header)
        runs = iter_runs(self.header, *self._payload, per_segment)
        blocks = self.mode.blocks(self.header, runs, self._threads)
        if self.header.gain:  # §10: before the rate conversion and the peak limit
            blocks = (block * np.float32(self.header.gain_factor) for block in blocks)
        if self.header.rate_divisor > 1:
            blocks = resample.interpolate(blocks, self.header.rate_divisor, self.frames)
        return _bounded(limit.limited(blocks, self.header.peak), self._threads)

    def read(self) -> np.ndarray:
        """All the audio, (frames, channels) float32."""
        audio = np.empty((self.frames, self.channels), np.float32)  # filled in place: one copy of the output
        done = 0
        for block in self:
            audio[done : done + len(block)] = block
            done += len(block)
        return audio

    def close(self) -> None:
        self._payload = None

    def __enter__(self) -> "Reader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        what = f"{self.mode.describe(self.header)}, {self.sample_rate} Hz, {self.channels} ch, {self.duration:.3f} s"
        return f"<codec.Reader {what}>"
