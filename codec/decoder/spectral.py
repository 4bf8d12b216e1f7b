"""Log-magnitude segments -> audio (formats/ddc.md §7): phase by Griffin-Lim, frames joined, overlap-added.

Segments are processed in order because each one starts its phase search from the
frames it shares with the previous one; that keeps phase continuous across joins.
Memory is one segment's frames plus three hops of pending overlap-add.
"""

from collections.abc import Iterable, Iterator

import numpy as np

from codec.bitstream import Header
from codec.layout import crossfade
from codec.noise import start_phase
from codec.spectrum import OVERLAP_FACTOR, griffin_lim, istft, magnitude


def iter_spectral_blocks(header: Header, runs: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    """Decoded audio as consecutive (frames, C) float32 blocks from runs of (n, rows, L) log-magnitudes."""
    n_fft, channels, length = header.n_fft, header.channels, header.segment_length
    hop, bins = n_fft // OVERLAP_FACTOR, header.rows // channels
    overlap, fade = header.overlap, crossfade(header.overlap)[:, None]
    stride = length - overlap
    shared = np.zeros((channels, 0, bins), np.complex128)  # previous segment's last `overlap` frames
    carry = np.zeros((channels, (OVERLAP_FACTOR - 1) * hop))  # overlap-add tail still missing frames
    skip, left, index = n_fft - hop, header.frames, 0  # the first N - hop samples are leading padding
    for run in runs:
        for y in run:
            mag = magnitude(y.reshape(channels, bins, length).transpose(0, 2, 1), n_fft)
            mag[:, max(0, header.positions - index * stride) :] = 0.0  # frames past the end are padding
            start = np.broadcast_to(start_phase(header.seed, index, mag.shape[1:]), mag.shape).copy()
            start[:, : shared.shape[1]] = shared  # frames shared with the previous segment keep its phase
            spectra = griffin_lim(mag, n_fft, start)
            last = index == header.segments - 1
            emit = spectra[:, : length if last else stride].copy()
            if index > 0:
                emit[:, :overlap] = (1.0 - fade) * shared + fade * spectra[:, :overlap]
            shared = spectra[:, stride:]
            samples = istft(emit, n_fft)
            samples[:, : carry.shape[1]] += carry
            done = samples.shape[1] - carry.shape[1]
            out, carry = samples[:, :done], samples[:, done:]
            if last:
                out = samples
            drop = min(skip, out.shape[1])
            skip -= drop
            block = out[:, drop:].T[:left].astype(np.float32)
            left -= len(block)
            index += 1
            yield block
