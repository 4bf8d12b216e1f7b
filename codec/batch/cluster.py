"""Reaching Ray for `--ray`: a Ray started here, or a cluster joined at an address, with its token.

A cluster started with token authentication (Ray's default for `ray start --head` since 2.5x) admits a driver
only with its token. Ray takes the token from $RAY_AUTH_TOKEN, from the file $RAY_AUTH_TOKEN_PATH names, or from
~/.ray/auth_token, but sends it to a cluster at an explicit address only when $RAY_AUTH_MODE=token. Here a token
that is there is sent (RAY_AUTH_MODE=token unless the user set the mode), as Ray itself does for a cluster it
finds on this machine. A refused or missing token is one line that says how to supply it.
"""

import contextlib
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

from codec.errors import DdcodecError

TOKEN_HELP = (
    "set RAY_AUTH_TOKEN to the cluster's token (`ray get-auth-token` prints it on the head node) "
    "or RAY_AUTH_TOKEN_PATH to a file holding it"
)
REFUSED = ("InvalidAuthToken", "Unauthenticated")  # what Ray's C++ client logs when the cluster refuses the token


def token_given() -> bool:
    """Whether a token is where Ray looks for one."""
    path = os.environ.get("RAY_AUTH_TOKEN_PATH")
    return bool(os.environ.get("RAY_AUTH_TOKEN")) or (Path(path) if path else Path.home() / ".ray/auth_token").is_file()


@contextlib.contextmanager
def connected(address: str | None) -> Iterator[ModuleType]:
    """The ray module, initialized: joined to the cluster at `address` (None: $RAY_ADDRESS's, if set, else a Ray
    started here for this run); shut down on leaving. DdcodecError when Ray is absent or the cluster unreachable."""
    joining = address or os.environ.get("RAY_ADDRESS")
    if joining and "RAY_AUTH_MODE" not in os.environ and token_given():
        os.environ["RAY_AUTH_MODE"] = "token"  # before Ray is imported: it reads its settings then
    try:
        import ray
        from ray.exceptions import AuthenticationError
    except ImportError:
        raise DdcodecError("--ray needs Ray: pip install -e '.[cluster]' (from the ddcodec checkout)") from None
    where = f" at {joining}" if joining else ""
    with _stderr_kept() as logged:  # Ray's C++ client logs its reasons on stderr, not in its exceptions
        try:
            ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR)
        except AuthenticationError:
            raise DdcodecError(f"the Ray cluster{where} wants an authentication token and none was found: "
                               f"{TOKEN_HELP}") from None  # fmt: skip
        except (ConnectionError, ValueError, RuntimeError) as exc:
            if any(word in logged() for word in REFUSED):
                given = "the authentication token given is wrong" if token_given() else "no token was given"
                raise DdcodecError(f"the Ray cluster{where} refused this connection ({given}): {TOKEN_HELP}") from None
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DdcodecError(f"cannot start or reach Ray{where}: {reason}") from None
    try:
        yield ray
    finally:
        ray.shutdown()


@contextlib.contextmanager
def _stderr_kept() -> Iterator[Callable[[], str]]:
    """File descriptor 2 into a temporary file while the block runs; yields a function reading what was written."""
    with tempfile.TemporaryFile("w+b") as kept:

        def written() -> str:
            kept.seek(0)
            return kept.read().decode(errors="replace")

        saved = os.dup(2)
        os.dup2(kept.fileno(), 2)
        try:
            yield written
        finally:
            os.dup2(saved, 2)
            os.close(saved)
