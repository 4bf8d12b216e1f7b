"""The `ddcodec` command: encode, decode, restore, info, eval. Paths, messages and exit codes only; no bits here.

Exit codes (EXIT_CODES, shown after every --help): 0 done; 1 bad input, corrupt .ddc, refused output, or a failed
file of many (one line on stderr); 2 bad usage (typer's own, and UsageError); 130 interrupted.
"""

import contextlib
import dataclasses
import enum
import functools
import inspect
import io
import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import numpy as np
import typer

import codec
from codec import bitstream, modes
from codec.audio_io import (
    STDIO,
    as_written,
    audio_from_bytes,
    display_name,
    is_audio_name,
    is_pcm,
    open_input,
    read_audio,
    read_bytes,
)
from codec.batch import plan, report, run, work
from codec.bitstream import (
    LEGACY_PHASE,
    MAGIC,
    MAX_PHASE_ITERATIONS,
    MAX_SEED,
    NOISE_MODEL,
    SPEECH_DENOISER,
    VERSIONS,
)
from codec.errors import DdcodecError, UsageError
from codec.options import BANDS, DENOISE, DEVICES, MAX_EFFORT, EncodeOptions
from codec.restore import Damage
from codec.summary import readable, where_bytes_go
from codec.threads import ENV as THREADS_ENV
from codec.threads import resolve as resolve_threads

if TYPE_CHECKING:
    from codec.encoder.pipeline import Progress

DEFAULTS = EncodeOptions()


def choices(name: str, values: Iterable[str]) -> type[enum.Enum]:
    """An option's allowed values as the str Enum typer lists in --help and checks."""
    return enum.Enum(name, {value: value for value in values}, type=str)


ModeName, Device, Denoise = choices("ModeName", modes.MODES), choices("Device", DEVICES), choices("Denoise", DENOISE)
Band = choices("Band", BANDS)
RestoreDenoise = choices("RestoreDenoise", ("off", "speech"))  # auto is the encoder's fit, which restore has not
NO_RESTORE_DENOISE = RestoreDenoise("off")
DEFAULT_MODE, DEFAULT_DEVICE = ModeName(DEFAULTS.mode), Device(DEFAULTS.device)
DEFAULT_DENOISE, DEFAULT_BAND = Denoise(DEFAULTS.denoise), Band(DEFAULTS.band)
BAND_HELP = (
    "auto: where the bitrate is too low for the full band, code a narrower one, as Opus and MP3 do "
    "(spectral mode, mono under 32 kbps: 48 kHz audio coded at 16 kHz, up to about 7.2 kHz), unless the input "
    "carries content above that band; full: every frequency."
)
DEVICE_HELP = "Where to fit: auto is CUDA when torch sees a GPU, else the CPU."
SPEECH_HELP = (
    "speech: keep only the speech, with DeepFilterNet3, a learned speech denoiser (the optional extra "
    "'denoise'); it dulls music, and warns of input it hears little speech in."
)
DENOISE_HELP = (
    "auto: explain stationary background noise away (not stored, so not decoded) when the input's "
    "estimated SNR is under 20 dB; meant for speech (sustained music can pass for noise). "
    f"off: code everything. {SPEECH_HELP}"
)
MODE_HELP = " ".join(f"{name}: {mode.summary}." for name, mode in modes.MODES.items())


def _default_steps(fit: modes.FitConfig) -> str:
    light = f" ({fit.light_iterations} for networks of up to {fit.light_rows} rows: mono coded at 16 kHz or less)"
    return f"{fit.iterations}{light if fit.light_rows else ''}"


ITERATIONS_HELP = ", ".join(f"{_default_steps(mode.fit)} {name}" for name, mode in modes.MODES.items())
EFFORT_HELP = (
    "The fit's steps as a multiple of the default: 2 takes about twice as long for a little more quality, "
    f"0.5 half as long; at most {MAX_EFFORT:g}. Give --effort or --iterations, not both."
)
THREADS_HELP = (
    f"Threads each file is coded with: torch, BLAS, OpenMP and the FFTs (default: ${THREADS_ENV}, else 1, which "
    "measured fastest and shares the cores well; each --jobs worker and Ray task gets this many)."
)

EXIT_CODES = (
    "Exit codes: 0 done; 1 bad input, corrupt .ddc, refused output, or any file of many failed (one line on stderr "
    "each); 2 bad usage (an option's value, an output's name); 130 interrupted (Ctrl-C), leaving no partial output."
)


class _UntypedFlags:
    """Flags in help without a type (this typer writes `--quiet -q <bool>`), the help flag among them."""

    def get_params(self, ctx: typer.Context) -> list:
        params = super().get_params(ctx)
        for param in params:
            if isinstance(param, typer.core.TyperOption) and param.is_flag:
                param.metavar = ""
        return params


class Command(_UntypedFlags, typer.core.TyperCommand):
    """Typer's command with plainer help: paragraphs rewrapped to the terminal (rich mode keeps the docstring's
    line breaks), arguments named in capitals (`[OPTIONS] SOURCES... TARGET`, where this typer writes
    `{sources}... {target}`), flags without a type, and the exit codes at the end."""

    def __init__(self, *args: object, help: str | None = None, epilog: str | None = None, **kwargs: object) -> None:
        paragraphs = inspect.cleandoc(help or "").split("\n\n")
        help = "\n\n".join(" ".join(paragraph.split()) for paragraph in paragraphs)
        super().__init__(*args, help=help, epilog=epilog or EXIT_CODES, **kwargs)
        for param in self.params:
            if isinstance(param, typer.core.TyperArgument):
                param.metavar = (param.name or "").upper() + ("..." if param.nargs != 1 else "")

    def collect_usage_pieces(self, ctx: typer.Context) -> list[str]:
        arguments = [p.metavar or "" for p in self.get_params(ctx) if isinstance(p, typer.core.TyperArgument)]
        return [self.options_metavar or "", *arguments]


class Group(_UntypedFlags, typer.core.TyperGroup):
    """The app's group, its flags (--version, --help) shown as Command shows them."""


app = typer.Typer(
    help="ddcodec: audio compressed as the weights of a small neural network.",
    epilog=EXIT_CODES,
    cls=Group,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
command = functools.partial(app.command, cls=Command)


def say(message: str) -> None:
    """A line on stderr (stdout carries the data)."""
    typer.echo(message, err=True)


def error(message: str) -> None:
    say(f"ddcodec: error: {message}")


def fail(exc: DdcodecError) -> typer.Exit:
    """The exit for an error: its line, then 2 for bad usage, 1 for anything else."""
    error(str(exc))
    return typer.Exit(2 if isinstance(exc, UsageError) else 1)


def warn(message: str) -> None:
    """One line on stderr, shown even with --quiet: the user asked for something they will not get."""
    say(f"ddcodec: warning: {message}")


def _version(show: bool) -> None:
    if show:
        from importlib.metadata import version

        typer.echo(f"ddcodec {version('ddcodec')} (reads .ddc format versions {', '.join(map(str, VERSIONS))})")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    pass  # the options above only; the app's help text is set on `app`


def parse_bitrate(text: str) -> float:
    """'24k' -> 24000, '1.5M' -> 1500000, '6000' -> 6000."""
    scale = {"k": 1e3, "m": 1e6}.get(text[-1:].lower(), 1.0)
    number = text[:-1] if scale != 1.0 else text
    try:
        value = float(number) * scale
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a bitrate (examples: 24k, 64000, 1.5M)") from None
    if not 1000 <= value <= 10_000_000:
        raise typer.BadParameter(f"{text!r} is outside 1k..10M bits per second")
    return value


def format_bitrate(value: float) -> str:
    """24000 -> '24k' (parse_bitrate's inverse for whole kilobits)."""
    return f"{value / 1000:g}k" if value % 1000 == 0 else f"{value:g}"


def status(message: str, quiet: bool) -> None:
    if not quiet:
        say(message)


MANY = "several inputs, a directory, or an output directory"  # what makes a many-file run (plan.is_many)
RECURSIVE_HELP = "With a directory input, its subdirectories too (the tree is mirrored in the output directory)."
JOBS_HELP = "Many files: how many to code at once, in separate processes; the cores are split between them."
RAY_HELP = "Many files: one Ray task per file ($RAY_ADDRESS's cluster if set, else a Ray started here)."
RAY_ADDRESS_HELP = "Many files: the Ray cluster to run on (implies --ray); every node must see the paths."
SKIP_NOTE = "Many files: outputs already there and complete are skipped (rerun to resume); --force redoes them."
FORCE_HELP = "Overwrite an existing output."
RecursiveFlag = Annotated[bool, typer.Option("--recursive", "-r", help=RECURSIVE_HELP)]
JobsOption = Annotated[int, typer.Option("--jobs", "-j", help=JOBS_HELP, min=1)]
RayFlag = Annotated[bool, typer.Option("--ray", help=RAY_HELP)]
RayAddressOption = Annotated[str | None, typer.Option(help=RAY_ADDRESS_HELP)]
ManyForceFlag = Annotated[bool, typer.Option("--force", "-f", help=f"{FORCE_HELP} {SKIP_NOTE}")]
RESTORE = "Restoration"  # the help panel of the options encode shares with restore
DeclipFlag = Annotated[
    bool, typer.Option("--declip", help="Re-estimate clipped peaks beyond the clipping level.", rich_help_panel=RESTORE)
]
GapsFlag = Annotated[
    bool,
    typer.Option(
        "--gaps", help="Fill dropouts: runs of digital silence (2-250 ms) inside sound.", rich_help_panel=RESTORE
    ),
]
ClicksFlag = Annotated[
    bool,
    typer.Option(
        "--clicks", help="Find clicks (outliers of a short linear prediction) and fill them.", rich_help_panel=RESTORE
    ),
]
MaskOption = Annotated[
    str | None,
    typer.Option(
        help="Fill these stretches, START-END seconds, comma-separated (e.g. 1.20-1.25,3-3.1).", rich_help_panel=RESTORE
    ),
]
BandwidthOption = Annotated[
    int | None,
    typer.Option(
        help="Extend the band: resample to this rate (Hz) and synthesize what lies above the input's cutoff.",
        rich_help_panel=RESTORE,
    ),
]
PHASE_HELP = (
    "Spectral mode: Griffin-Lim iterations the decoder runs after its phase-gradient start, stored in the file "
    f"(default: {modes.MODES['spectral'].phase_iterations} for mono, "
    f"{modes.MODES['spectral'].multichannel_phase_iterations} for more channels). 0 decodes nearly 3 times as fast "
    "as 8 and costs about 0.4 PESQ on speech; more rebuild phase closer to the coded spectrum."
)


@command()
def encode(
    sources: Annotated[
        list[str], typer.Argument(help="Audio files (wav, flac, ogg, mp3, aiff, ...) or directories; - for stdin.")
    ],
    target: Annotated[str, typer.Argument(help="Output .ddc file (- for stdout), or a directory for many files.")],
    bitrate: Annotated[
        str, typer.Option("--bitrate", "-b", help="Target bitrate, e.g. 6k, 24k, 128k.")
    ] = format_bitrate(DEFAULTS.bitrate),
    seed: Annotated[
        int, typer.Option(help="Seed of the network input (stored in the file).", min=0, max=MAX_SEED)
    ] = DEFAULTS.seed,
    mode: Annotated[ModeName, typer.Option("--mode", "-m", help=MODE_HELP)] = DEFAULT_MODE,
    device: Annotated[Device, typer.Option(help=DEVICE_HELP)] = DEFAULT_DEVICE,
    iterations: Annotated[
        int | None, typer.Option(help=f"Fitting steps (more is slower and better; default {ITERATIONS_HELP}).", min=1)
    ] = DEFAULTS.iterations,
    effort: Annotated[float, typer.Option(help=EFFORT_HELP)] = DEFAULTS.effort,
    threads: Annotated[int | None, typer.Option(help=THREADS_HELP, min=1)] = DEFAULTS.threads,
    denoise: Annotated[Denoise, typer.Option(help=DENOISE_HELP)] = DEFAULT_DENOISE,
    band: Annotated[Band, typer.Option(help=BAND_HELP)] = DEFAULT_BAND,
    phase_iterations: Annotated[
        int | None, typer.Option(help=PHASE_HELP, min=0, max=MAX_PHASE_ITERATIONS)
    ] = DEFAULTS.phase_iterations,
    declip: DeclipFlag = False,
    gaps: GapsFlag = False,
    clicks: ClicksFlag = False,
    mask: MaskOption = None,
    bandwidth: BandwidthOption = None,
    recursive: RecursiveFlag = False,
    jobs: JobsOption = 1,
    ray: RayFlag = False,
    ray_address: RayAddressOption = None,
    force: ManyForceFlag = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary.")] = False,
) -> None:
    """Encode audio into a .ddc file, or many files into a directory of them (restored first if asked)."""
    try:
        options = EncodeOptions(
            bitrate=parse_bitrate(bitrate),
            mode=mode.value,
            seed=seed,
            device=device.value,
            iterations=iterations,
            effort=effort,
            threads=threads,
            denoise=denoise.value,
            band=band.value,
            phase_iterations=phase_iterations,
            restore=Damage(declip, gaps, clicks, mask, bandwidth),
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    chosen = modes.get(options.mode)
    if phase_iterations is not None and chosen.phase_search() == LEGACY_PHASE:
        warn(f"{options.mode} mode keeps no phase search; --phase-iterations has no effect")
    if many := Many.asked(sources, target, recursive, jobs, ray, ray_address, quiet):
        raise typer.Exit(many.encode(sources, target, options, force))
    started = time.perf_counter()
    if target != STDIO and is_audio_name(Path(target)):
        raise fail(UsageError(f"{target} is named as audio, but encode writes a .ddc file: name it .ddc"))
    stages = {
        "restoring": ("at {:.0f} s", "blocks", False),
        "denoising": ("at {:.0f} s", "blocks", False),
        "fitting": (chosen.measure, "steps", True),
    }

    def display(stage: str) -> contextlib.AbstractContextManager["Progress | None"]:
        measure, unit, closing = stages[stage]
        return _progress(quiet, measure, stage, unit, closing)

    try:
        header = work.encode_path(
            sources[0], target, options, force=force, display=display, warn=warn, note=lambda m: status(m, quiet)
        )
    except DdcodecError as exc:
        raise fail(exc) from None
    summary = codec.describe(header)
    status(
        f"{target}: {summary['file_bytes']} bytes, {summary['bitrate_kbps']:.2f} kbps, "
        f"{header.duration:.2f} s in {time.perf_counter() - started:.1f} s{_noise_note(header)}",
        quiet,
    )


def _noise_note(header: codec.Header) -> str:
    if header.input_snr_db is None:
        return ""
    done = {NOISE_MODEL: "noise removed", SPEECH_DENOISER: "speech denoised"}.get(header.denoised, "left as is")
    return f"; estimated input SNR {header.input_snr_db} dB, {done}"


AudioFormat = choices("AudioFormat", ("wav", "flac", "aiff", "w64", "rf64", "caf", "au"))
DEFAULT_FORMAT = AudioFormat("wav")


@command()
def decode(
    sources: Annotated[list[str], typer.Argument(help=".ddc files or directories of them; - for stdin.")],
    target: Annotated[
        str,
        typer.Argument(
            help="Output audio, format from the extension (.wav, .flac, ...), - for WAV on stdout; "
            "or a directory for many files."
        ),
    ],
    threads: Annotated[int | None, typer.Option(help=THREADS_HELP, min=1)] = None,
    audio_format: Annotated[
        AudioFormat, typer.Option("--format", help="Many files: the outputs' format (and extension).")
    ] = DEFAULT_FORMAT,
    recursive: RecursiveFlag = False,
    jobs: JobsOption = 1,
    ray: RayFlag = False,
    ray_address: RayAddressOption = None,
    force: ManyForceFlag = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary.")] = False,
) -> None:
    """Decode a .ddc file to 16-bit PCM audio, or many into a directory of audio files."""
    if many := Many.asked(sources, target, recursive, jobs, ray, ray_address, quiet):
        raise typer.Exit(many.decode(sources, target, threads, audio_format.value, force))
    started = time.perf_counter()
    try:
        with _progress(quiet, "{:.0f} s of audio", "decoding", "frames", closing=False) as progress:
            header = work.decode_path(sources[0], target, threads=threads, force=force, progress=progress)
    except DdcodecError as exc:
        raise fail(exc) from None
    status(f"{target}: {header.duration:.2f} s decoded in {time.perf_counter() - started:.2f} s", quiet)


@command("restore")
def restore_command(
    source: Annotated[str, typer.Argument(help="Audio file (wav, flac, ogg, mp3, ...); - for stdin.")],
    target: Annotated[
        str,
        typer.Argument(
            help="Output audio, as deep as the input (at least 16-bit PCM), format from the extension; - for WAV."
        ),
    ],
    declip: DeclipFlag = False,
    gaps: GapsFlag = False,
    clicks: ClicksFlag = False,
    mask: MaskOption = None,
    bandwidth: BandwidthOption = None,
    denoise: Annotated[
        RestoreDenoise, typer.Option(help=f"off: leave the noise. {SPEECH_HELP}", rich_help_panel=RESTORE)
    ] = NO_RESTORE_DENOISE,
    force: Annotated[bool, typer.Option("--force", "-f", help=FORCE_HELP)] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary.")] = False,
) -> None:
    """Repair an audio file without coding it.

    Declips it, fills dropouts, clicks or given stretches from the sound around them, extends its band, keeps only
    its speech. Writes the input's sample format (16-bit PCM for 16-bit and lossy inputs)."""
    try:
        damage = Damage(declip, gaps, clicks, mask, bandwidth)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    speech = denoise.value == "speech"
    if not damage and not speech:
        raise typer.BadParameter(
            "nothing to restore: give --declip, --gaps, --clicks, --mask, --bandwidth or --denoise speech"
        )
    started = time.perf_counter()
    try:
        with _progress(quiet, "at {:.0f} s", "restoring", "blocks", closing=False) as progress:
            done = work.restore_path(source, target, damage, speech=speech, force=force, progress=progress, warn=warn)
    except DdcodecError as exc:
        raise fail(exc) from None
    status(f"{target}: {'; '.join(done)} in {time.perf_counter() - started:.1f} s", quiet)


@dataclass(frozen=True)
class Many:
    """A many-file run as the command line asked for it; encode and decode return the exit code:
    0 when every file is done or skipped, 1 when any failed or the run could not start, 130 when interrupted
    (a command line that cannot be planned raises typer.Exit through `fail`)."""

    recursive: bool
    jobs: int
    ray: bool
    ray_address: str | None
    quiet: bool

    @classmethod
    def asked(
        cls,
        sources: list[str],
        target: str,
        recursive: bool,
        jobs: int,
        ray: bool,
        ray_address: str | None,
        quiet: bool,
    ) -> "Many | None":
        """The many-file run a command line asks for; None for one file, warning of the many-file options given."""
        if plan.is_many(sources, target):
            return cls(recursive, jobs, ray or ray_address is not None, ray_address, quiet)
        given = {"--recursive": recursive, "--jobs": jobs > 1, "--ray": ray, "--ray-address": ray_address is not None}
        if ignored := [flag for flag, on in given.items() if on]:
            warn(f"{', '.join(ignored)} ignored: they act on many files ({MANY}), and this is one file")
        return None

    def encode(self, sources: list[str], target: str, options: EncodeOptions, force: bool) -> int:
        todo = self._plan(sources, target, ".ddc", is_audio_name, "audio files")
        options = dataclasses.replace(options, threads=self._threads(options.threads))
        job_work = functools.partial(work.encode_job, options=options, force=force)
        return self._run("encode", todo, target, job_work, work.audio_seconds, options.threads)

    def decode(self, sources: list[str], target: str, threads: int | None, fmt: str, force: bool) -> int:
        todo = self._plan(sources, target, f".{fmt}", lambda path: path.suffix == ".ddc", ".ddc files")
        threads = self._threads(threads)
        job_work = functools.partial(work.decode_job, threads=threads, force=force)
        return self._run("decode", todo, target, job_work, work.ddc_seconds, threads)

    def _plan(
        self, sources: list[str], target: str, suffix: str, wanted: Callable[[Path], bool], what: str
    ) -> list[plan.Job]:
        try:
            todo = plan.plan(sources, target, suffix=suffix, wanted=wanted, recursive=self.recursive)
            if not todo:
                raise DdcodecError(f"no {what} in {', '.join(sources)}" + ("" if self.recursive else " (--recursive?)"))
        except DdcodecError as exc:
            raise fail(exc) from None
        return todo

    @staticmethod
    def _threads(asked: int | None) -> int:
        """Threads per file (codec.threads), resolved once here so every worker and Ray task computes with it."""
        try:
            return resolve_threads(asked)
        except DdcodecError as exc:
            raise fail(exc) from None

    def _runner(self, threads: int) -> contextlib.AbstractContextManager[run.Runner]:
        if self.ray:
            return run.ray(self.ray_address, threads)
        if self.jobs > 1:
            return contextlib.nullcontext(functools.partial(run.processes, workers=self.jobs))
        return contextlib.nullcontext(run.here)

    def _run(
        self,
        verb: str,
        todo: list[plan.Job],
        target: str,
        job_work: run.Work,
        seconds: Callable[[Path], float],
        threads: int,
    ) -> int:
        tally = report.Tally(len(todo), sum(seconds(job.source) for job in todo))
        interrupted = False
        try:
            with self._runner(threads) as execute:  # first: no output directory is made for a run that cannot start
                _make_directory(target)
                with report.progress(tally, verb, say, warn, error, self.quiet) as show:
                    execute(todo, job_work, show)
        except KeyboardInterrupt:
            interrupted = True
        except DdcodecError as exc:  # the run could not start: Ray absent or unreachable, no output directory
            error(str(exc))
            return 1
        if interrupted:  # shown when quiet too: it explains the exit code
            say("ddcodec: interrupted: the files done are complete and a rerun skips them")
        for line in tally.summary(verb):
            status(line, self.quiet)
        if tally.other_settings:
            warn(f"{tally.other_settings} output(s) already there were made with other settings and skipped "
                 "(said above); --force redoes them")  # fmt: skip
        return 130 if interrupted else 1 if tally.failures else 0


def _make_directory(path: str) -> None:
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DdcodecError(f"cannot make the output directory {path}: {exc.strerror}") from None


@command()
def info(
    source: Annotated[str, typer.Argument(help=".ddc file, or - for stdin.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the header as JSON.")] = False,
    show_bytes: Annotated[
        bool, typer.Option("--bytes", help="Also show where the bytes go: header, each tensor, step sizes.")
    ] = False,
) -> None:
    """Describe a .ddc file's header (the payload is checked too)."""
    try:
        with open_input(source) as fileobj:
            header, exponents, codes = bitstream.read(fileobj)
    except DdcodecError as exc:
        raise fail(exc) from None
    summary = codec.describe(header)
    if show_bytes:
        summary["bytes"] = where_bytes_go(header, exponents, codes)
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    flat = readable(header)
    if show_bytes:
        budget = summary["bytes"]
        flat |= {key: value for key, value in budget.items() if key != "tensors"}
        for name, size in budget["tensors"].items():
            flat[f"bytes {name}"] = f"{size['raw_bytes']} raw, {size['zstd_alone_bytes']} zstd alone"
    width = max(map(len, flat))
    for key, value in flat.items():
        typer.echo(f"{key:<{width}}  {value}")


@command("eval")
def evaluate(
    reference: Annotated[str, typer.Argument(help="Original audio file.")],
    test: Annotated[
        str, typer.Argument(help="Decoded audio, a .ddc (decoded here), or a lossy file (.mp3, .ogg); - for stdin.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the scores as JSON.")] = False,
) -> None:
    """Score decoded audio against the original.

    Scores TEST against REFERENCE: SNR, SI-SDR, LSD, PESQ-WB, STOI, Zimtohrli MOS and ViSQOL MOS (audio mode; the
    last four need the eval extra), kbps.

    TEST is resampled to REFERENCE's rate and, unless it is a .ddc (whose decoder
    adds no delay), aligned to it by cross-correlation first; a .ddc is scored as
    the 16-bit PCM that `decode` writes. kbps and the
    compression ratio are TEST's size over TEST's duration, for a .ddc or a lossy
    file only (a PCM file's size says nothing about a codec: n/a).
    """
    from codec import metrics

    try:
        ref, rate = read_audio(reference)
        data = read_bytes(test)
        ours = data[: len(MAGIC)] == MAGIC
        if ours:
            with codec.open(io.BytesIO(data)) as reader:
                decoded, test_rate = as_written(reader.read()), reader.sample_rate
            coded = True
        else:
            decoded, test_rate = audio_from_bytes(data, display_name(test))
            coded = not is_pcm(data)
        if decoded.shape[1] != ref.shape[1]:
            raise DdcodecError(f"{test} has {decoded.shape[1]} channels, {reference} has {ref.shape[1]}")
        # a .ddc decodes with no delay; a lossy or PCM file may be delayed, so its delay is searched
        test_audio = metrics.resample(decoded, test_rate, rate)
        with np.errstate(all="ignore"):  # a silent reference divides by zero; its scores are n/a below
            scores = metrics.score(ref, test_audio, rate, search_delay=not ours, visqol=True)  # eval knows no category
    except DdcodecError as exc:
        raise fail(exc) from None
    silent = not np.any(ref)
    scores = {
        key: None if silent or value is None or not np.isfinite(value) else value for key, value in scores.items()
    }
    why = dict.fromkeys(scores, "silent reference") if silent else {k: EVAL_EXTRA for k in _missing_extra(scores)}
    seconds = len(decoded) / test_rate
    scores |= {
        "kbps": metrics.bitrate_kbps(len(data), seconds) if coded else None,
        "compression_ratio_vs_pcm16": metrics.compression_ratio(len(data), len(decoded), ref.shape[1])
        if coded
        else None,
    }
    if not coded:
        why |= dict.fromkeys(("kbps", "compression_ratio_vs_pcm16"), "TEST is PCM")
    if as_json:
        typer.echo(json.dumps(scores, indent=2))
    else:
        for key, value in scores.items():
            shown = f"{value:.3f}" if value is not None else f"n/a ({why[key]})" if key in why else "n/a"
            typer.echo(f"{key:<27}  {shown}")


EVAL_EXTRA = "pip install -e '.[eval]'"
EVAL_PACKAGES = {"pesq_wb": "pesq", "stoi": "pystoi", "zimtohrli_mos": "zimtohrli", "visqol_mos": "visqol"}


def _missing_extra(scores: dict[str, float | None]) -> list[str]:
    """The scores that are n/a because the eval extra's package for them is not installed."""
    from importlib.util import find_spec

    return [key for key, value in scores.items() if value is None and key in EVAL_PACKAGES
            and find_spec(EVAL_PACKAGES[key]) is None]  # fmt: skip


@contextlib.contextmanager
def _progress(quiet: bool, measure: str, doing: str, unit: str, closing: bool) -> Iterator["Progress | None"]:
    """A progress callback (done, total, value) for `doing` (the fit, with the mode's fit measure, or the
    decode), `measure` formatting the value: a rich bar on a terminal, a plain line every PLAIN_EVERY_S
    seconds otherwise (logs of batch jobs, long decodes); None when quiet."""
    if quiet:
        yield None
        return
    from rich.console import Console

    console = Console(stderr=True)
    if not console.is_terminal:
        yield _plain_progress(measure, doing, unit, closing)
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = TextColumn("{task.percentage:>3.0f}%  {task.fields[text]}")
    timers = (TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(TextColumn(doing), BarColumn(), columns, *timers, transient=True, console=console) as bar:
        task = bar.add_task(doing, total=None, text="")
        yield lambda done, total, value: bar.update(task, completed=done, total=total, text=measure.format(value))


PLAIN_EVERY_S = 10.0


def _plain_progress(measure: str, doing: str, unit: str, closing: bool) -> "Progress":
    """Lines every PLAIN_EVERY_S seconds, and one at the end if `closing` (the fit's final measure) or if any
    was printed (a short decode says nothing before its summary)."""
    began, last, printed = time.perf_counter(), [time.perf_counter()], [False]

    def report(done: int, total: int, value: float) -> None:
        now = time.perf_counter()
        if now - last[0] >= PLAIN_EVERY_S or (done == total and (printed[0] or closing)):
            last[0], printed[0] = now, True
            line = f"{doing}: {100 * done / total:3.0f}% ({done}/{total} {unit}), {measure.format(value)}"
            say(f"{line}, {now - began:.0f} s")

    return report


def main() -> None:
    app()
