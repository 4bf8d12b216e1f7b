"""Whether an output a many-file run finds already there is done, so that a rerun skips it.

An output is done when it is a complete, valid file of its source, newer than it, with the rate, channels
and length the command would give it (encode: after restoration, whose --bandwidth changes the rate). Anything
else there is refused (DdcodecError): never overwritten without --force.

A done .ddc can still have been made with other settings. `other_settings` compares what its header records
with what the command asks: the mode, the seed, the band coded (--band, and the bitrate through it), the
network and segment grid (the bitrate), the phase search (--phase-iterations) and whether noise was estimated
(--denoise; auto and speech alike). What the header does not record cannot be compared: --iterations, --effort,
--device, --threads, and restoration other than --bandwidth (--declip, --gaps, --clicks, --mask). Under --band auto
a file coded at the full band passes: the band is chosen by the input's content (codec.band), which a rerun does not
measure again.
"""

import soundfile

import codec
from codec import modes
from codec.audio_io import open_input
from codec.batch.plan import Job
from codec.bitstream import Header
from codec.errors import DdcodecError
from codec.modes.ladder import Shape
from codec.options import EncodeOptions
from codec.restore import Damage


def encoded(job: Job, options: EncodeOptions) -> Header | None:
    """The header of the job's existing .ddc if it is a complete encoding of the source as `options` would make it
    (in any settings: see other_settings); None when there is none; DdcodecError for anything else there."""
    if not job.target.exists():
        return None
    try:
        with codec.open(job.target) as reader:  # reads and checks the whole payload
            header = reader.header
        source = soundfile.info(str(job.source))
        shape = restored_shape(source.samplerate, source.channels, source.frames, options.restore)
    except (DdcodecError, OSError, RuntimeError):
        header = None
    if header is not None and _newer(job) and (header.sample_rate, header.channels, header.frames) == shape:
        return header
    raise DdcodecError(f"{job.target} exists but is not a complete encoding of {job.source} (--force replaces it)")


def decoded(job: Job) -> Header | None:
    """As `encoded`, for an audio output: 16-bit PCM with the .ddc's rate, channels and length."""
    if not job.target.exists():
        return None
    try:
        with open_input(str(job.source)) as fileobj:
            header = codec.read_header(fileobj)
        out = soundfile.info(str(job.target))
        shape = (out.samplerate, out.channels, out.frames, out.subtype)
    except (DdcodecError, OSError, RuntimeError):
        header = None
    if header is not None and _newer(job) and shape == (header.sample_rate, header.channels, header.frames, "PCM_16"):
        return header
    raise DdcodecError(f"{job.target} exists but is not a complete decoding of {job.source} (--force replaces it)")


def restored_shape(rate: int, channels: int, frames: int, damage: Damage) -> tuple[int, int, int]:
    """(rate, channels, frames) of audio after `damage`'s restoration: --bandwidth resamples it to its rate
    (scipy's resample_poly: ceil(frames * new / old) frames); the other repairs keep the shape."""
    if damage.bandwidth is None:
        return rate, channels, frames
    return damage.bandwidth, channels, -(-frames * damage.bandwidth // rate)


def other_settings(header: Header, options: EncodeOptions) -> list[str]:
    """How a complete .ddc differs from what `options` would make of the same audio, as '<what it has>, not
    <what is asked>' phrases; empty when every setting the header records matches."""
    mode = modes.get(options.mode)
    made = modes.for_header(header)
    if made is not mode:
        return [f"mode {made.name}, not {mode.name}"]  # nothing else compares across modes
    found = []
    if header.seed != options.seed:
        found.append(f"seed {header.seed}, not {options.seed}")
    rate, channels = header.sample_rate, header.channels
    bitrate = min(options.bitrate, mode.max_bitrate(rate, channels))
    # auto keeps the full band where the input has content above the narrow one (codec.band): either is auto's
    auto = options.band == "auto" and header.rate_divisor != 1
    divisor = mode.rate_divisor(bitrate, rate, channels) if auto else 1
    kbps = codec.describe(header)["bitrate_kbps"]
    if header.rate_divisor != divisor:
        found.append(f"coded at {header.coded_rate} Hz, not {rate // divisor} Hz (--band, --bitrate)")
    elif _layout(header) != _layout(mode.shape(bitrate, rate // divisor, channels, header.coded_frames)):
        found.append(f"made for another bitrate than {options.bitrate / 1000:g}k (the file is {kbps:.1f} kbps)")
    phase = mode.phase_search(channels, options.phase_iterations)
    if header.phase_search != phase:
        found.append(f"{header.phase_iterations} phase iterations, not {phase[1]}")
    # auto and speech write the same notes (formats/ddc.md §1.3), so one is not told from the other
    noted = options.denoise == "speech" or (options.denoise == "auto" and mode.denoiser is not None)
    if header.has_notes != noted:
        found.append(f"--denoise {'auto or speech' if header.has_notes else 'off'}, not {options.denoise}")
    return found


def _layout(shape: Header | Shape) -> tuple[int, ...]:
    """The fields a Shape and a Header share: the network and segment grid the bitrate chose."""
    names = ("width", "depth", "segment_length", "overlap", "synthesis", "frequency_q")
    return tuple(getattr(shape, name) for name in names)


def _newer(job: Job) -> bool:
    return job.target.stat().st_mtime >= job.source.stat().st_mtime
