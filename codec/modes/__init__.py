"""The mode table: every way ddcodec codes audio, by name. The first is the default.

Adding a mode means a module here (a Mode subclass, codec/modes/base.py), a line
in MODES, its section of formats/ddc.md and its tests; nothing else branches on modes.
"""

from codec.bitstream import Header
from codec.errors import FormatError
from codec.modes.base import FitConfig, Mode
from codec.modes.spectral import Spectral
from codec.modes.waveform import Waveform

__all__ = ["DEFAULT", "MODES", "FitConfig", "Mode", "for_header", "get"]

MODES: dict[str, Mode] = {mode.name: mode for mode in (Spectral(), Waveform())}
DEFAULT = next(iter(MODES))


def get(name: str) -> Mode:
    """The mode called `name`; ValueError listing the choices otherwise."""
    try:
        return MODES[name]
    except (KeyError, TypeError):
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {name!r}") from None


def for_header(header: Header) -> Mode:
    """The mode that wrote a (validated) header."""
    for mode in MODES.values():
        if mode.owns(header.synthesis):
            return mode
    raise FormatError(f"synthesis={header.synthesis} names no mode")
