"""The phase oracles decode through the decoder's own integration, and their islands are the integration's."""

import csv
import io
import subprocess
import sys
from pathlib import Path
from unittest import mock

import numpy as np
import pytest

import codec
from bench.clips import Clip
from bench.phase_oracles import OracleStart, TimeResiduals, islands, original
from codec import bitstream, phase


@pytest.fixture(scope="module")
def tone() -> tuple[Clip, bytes]:
    t = np.arange(8000) / 8000
    audio = (0.3 * np.sin(2 * np.pi * 440 * t) * (1 + np.sin(2 * np.pi * 3 * t)))[:, None].astype(np.float32)
    return Clip("speech/tone", "speech", audio, 8000), codec.encode(audio, 8000, bitrate=16000, iterations=10)


def decode(data: bytes, start: phase.Start) -> np.ndarray:
    with mock.patch.dict(phase.STARTS, {phase.PGHI: start}):
        return codec.decode(data)[0]


def test_random_anchors_without_differences_are_the_decoder_bit_for_bit(tone):
    clip, data = tone
    start = OracleStart("oracle", original(clip, bitstream.read_header(io.BytesIO(data))), random_anchors=True)
    np.testing.assert_array_equal(decode(data, start), codec.decode(data)[0])
    assert start.anchors and start.anchors[0] > 0


def test_exact_anchors_change_the_decode_and_are_counted(tone):
    clip, data = tone
    start = OracleStart("oracle", original(clip, bitstream.read_header(io.BytesIO(data))), bits=3)
    assert not np.array_equal(decode(data, start), codec.decode(data)[0])
    assert len(start.anchors) == bitstream.read_header(io.BytesIO(data)).segments


def test_islands_anchor_every_loud_cell_at_a_loud_cell_that_anchors_itself():
    rng = np.random.default_rng(0)
    g = rng.normal(0.0, 1.0, (40, 33))  # G of a 64-point STFT, 40 frames
    g[:, 10:20] = -30.0  # a quiet band, far under the tolerance
    anchor, loud = islands(g, 0, 40)
    starts = np.unique(anchor[loud])
    assert loud.any() and loud.reshape(-1)[starts].all()
    assert (anchor.reshape(-1)[starts] == starts).all()
    assert len(starts) >= 2  # the quiet band splits the loud cells into islands on either side


def test_time_residuals_count_what_they_send_and_move_the_decode(tone):
    clip, data = tone
    start = TimeResiduals("oracle", original(clip, bitstream.read_header(io.BytesIO(data))), nepers=5.0, bits=2)
    assert not np.array_equal(decode(data, start), codec.decode(data)[0])
    assert start.cells and start.cells[0] > 0


def test_quick_mode_scores_every_rung_once(tmp_path):
    pytest.importorskip("pesq")
    out = tmp_path / "oracles"
    command = [sys.executable, "-m", "bench.phase_oracles", "--quick", "--out", str(out)]
    subprocess.run(command, cwd=Path(__file__).parent.parent, check=True, capture_output=True)
    with open(out.with_suffix(".csv")) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len({r["rung"] for r in rows}) > 20
    assert all(float(r["zimtohrli_mos"]) > 0 and float(r["pesq_wb"]) > 0 for r in rows)
    assert all(r["side_kbps"] for r in rows if " bits" in r["rung"])
    assert "Command:" in out.with_suffix(".md").read_text()
