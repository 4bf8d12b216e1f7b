"""The decoder: numpy and scipy.fft only. Importing this package never imports torch.

bitstream (codec/bitstream.py) -> weights (weights.py) -> forward (forward.py), a run of
segments at a time (runs.py) -> audio (the mode's `blocks`, codec/modes); reader.py ties them.
"""

from codec.decoder.reader import Reader

__all__ = ["Reader"]
