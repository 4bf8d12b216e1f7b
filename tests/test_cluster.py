"""Joining a running Ray cluster (--ray-address) that uses token authentication, on loopback only.

The head is started as a user would (`ray start --head`) with a token; ddcodec runs in a child process, as
from a shell, so Ray reads the environment it is given. Skipped without the cluster extra.
"""

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile

import codec

pytest.importorskip("ray")

LOOPBACK = "127.0.0.1"
RAY = str(Path(sys.executable).parent / "ray")
# Ray binds its servers to the node's address; unset, this makes it loopback (Ray's setting for one machine).
LOCAL_ONLY = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
TOKEN_VARIABLES = ("RAY_ADDRESS", "RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def head():
    """(address, token, the environment of a user on this machine without the token), for a head started with
    token authentication. `--block` keeps it in one process whose end stops the head and only it (`ray stop`
    would stop every Ray of this user on the machine)."""
    home = tempfile.mkdtemp(prefix="ddr")  # a short path: Ray's sockets live under it; also keeps ~/.ray apart
    user = {k: v for k, v in os.environ.items() if k not in TOKEN_VARIABLES} | LOCAL_ONLY | {"HOME": home}
    token, port = secrets.token_hex(32), _free_port()
    start = [RAY, "start", "--head", "--block", "--node-ip-address", LOOPBACK, "--port", str(port), "--num-cpus", "1",
             "--include-dashboard", "false", "--disable-usage-stats", "--temp-dir", f"{home}/ray"]  # fmt: skip
    env = user | {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token}
    ray = subprocess.Popen(start, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not _listening(port):  # the head's GCS answers: it has started
            assert ray.poll() is None, "ray start --head failed"
            time.sleep(0.2)
        yield f"{LOOPBACK}:{port}", token, user
    finally:
        ray.terminate()
        ray.wait(timeout=120)
        shutil.rmtree(home, ignore_errors=True)


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((LOOPBACK, port)) == 0


def ddcodec(env: dict[str, str], *args: object) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", "from codec.cli import main; main()", *map(str, args)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def two_files(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    t = np.arange(4000) / 8000
    for name, pitch in (("a.wav", 220), ("b.wav", 330)):
        soundfile.write(folder / name, 0.3 * np.sin(2 * np.pi * pitch * t), 8000)
    return folder


def test_joining_with_the_token_encodes_the_files(head, two_files, tmp_path):
    address, token, user = head
    out = tmp_path / "out"
    result = ddcodec(user | {"RAY_AUTH_TOKEN": token}, "encode", two_files, out, "--ray-address", address,
                     "--iterations", "20", "--quiet")  # fmt: skip
    assert result.returncode == 0, result.stderr
    for name in ("a", "b"):
        with codec.open(out / f"{name}.ddc") as reader:
            assert reader.read().shape == (4000, 1)


def test_a_missing_or_wrong_token_is_one_line_and_makes_nothing(head, two_files, tmp_path):
    address, _, user = head
    wrong = tmp_path / "token"
    wrong.write_text(secrets.token_hex(32))
    cases = (
        (user, "no token was given"),
        (user | {"RAY_AUTH_TOKEN_PATH": str(wrong)}, "the authentication token given is wrong"),
    )
    for env, said in cases:
        result = ddcodec(env, "encode", two_files, tmp_path / "out", "--ray-address", address, "--iterations", "20")
        assert result.returncode == 1 and result.stderr.strip().splitlines() == [
            f"ddcodec: error: the Ray cluster at {address} refused this connection ({said}): set RAY_AUTH_TOKEN to "
            "the cluster's token (`ray get-auth-token` prints it on the head node) or RAY_AUTH_TOKEN_PATH to a "
            "file holding it"
        ], result.stderr
        assert not (tmp_path / "out").exists()
