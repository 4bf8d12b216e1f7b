"""The `ddcodec` command: encode, decode, info, eval. Paths, messages and exit codes only; no bits here.

Exit codes: 0 success, 1 bad input or refused output (one line on stderr), 2 bad usage.
"""

import contextlib
import dataclasses
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, BinaryIO

import typer

from codec import bitstream
from codec.audio_io import STDIO, atomic_output, output_format, read_audio, write_pcm16
from codec.bitstream import Header
from codec.errors import DdcodecError

if TYPE_CHECKING:
    from codec.encoder import Progress

app = typer.Typer(
    help="ddcodec: audio compressed as the weights of a small neural network.\n\n"
    "Exit codes: 0 success; 1 bad input, corrupt .ddc or refused output (one line on stderr); 2 bad usage.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def fail(message: str) -> typer.Exit:
    typer.echo(f"ddcodec: error: {message}", err=True)
    return typer.Exit(1)


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


def status(message: str, quiet: bool) -> None:
    if not quiet:
        typer.echo(message, err=True)


@app.command()
def encode(
    source: Annotated[str, typer.Argument(help="Audio file (wav, flac, ogg, mp3, aiff, ...) or - for stdin.")],
    target: Annotated[str, typer.Argument(help="Output .ddc file, or - for stdout.")],
    bitrate: Annotated[str, typer.Option("--bitrate", "-b", help="Target bitrate, e.g. 6k, 24k, 128k.")] = "24k",
    seed: Annotated[
        int, typer.Option(help="Seed of the network input (stored in the file).", min=0, max=2**32 - 1)
    ] = 0,
    mode: Annotated[
        str,
        typer.Option(
            "--mode",
            "-m",
            help="spectral: codes the spectrum, best perceived quality per bit, waveform not kept. "
            "waveform: codes the samples (waveform-faithful, lower quality per bit).",
        ),
    ] = "spectral",
    device: Annotated[str, typer.Option(help="Where to fit: cpu or cuda.")] = "cpu",
    iterations: Annotated[
        int | None,
        typer.Option(help="Fitting steps (more is slower and better; default 1000 spectral, 1500 waveform).", min=1),
    ] = None,
    force: Annotated[bool, typer.Option("--force", "-f", help="Overwrite an existing output.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary.")] = False,
) -> None:
    """Encode audio into a .ddc file."""
    from codec.encoder import MODES, encode_stream, fit_config

    rate = parse_bitrate(bitrate)
    if device not in ("cpu", "cuda"):
        raise typer.BadParameter(f"--device must be cpu or cuda, got {device!r}")
    if mode not in MODES:
        raise typer.BadParameter(f"--mode must be one of {', '.join(MODES)}, got {mode!r}")
    config = fit_config(mode, iterations, device)
    started = time.perf_counter()
    try:
        if device == "cuda":
            import torch

            if not torch.cuda.is_available():
                raise DdcodecError("--device cuda given but no CUDA device is available")
        audio, sample_rate = read_audio(source)
        with atomic_output(target, force, protect=[source]) as fileobj, _progress(quiet) as progress:
            header = encode_stream(audio, sample_rate, fileobj, rate, seed, config, progress, mode)
    except DdcodecError as exc:
        raise fail(str(exc)) from None
    summary = _describe(header)
    status(
        f"{target}: {summary['file_bytes']} bytes, {summary['bitrate_kbps']:.2f} kbps, "
        f"{header.duration:.2f} s in {time.perf_counter() - started:.1f} s",
        quiet,
    )


@app.command()
def decode(
    source: Annotated[str, typer.Argument(help=".ddc file, or - for stdin.")],
    target: Annotated[
        str, typer.Argument(help="Output audio; format from the extension (.wav, .flac, ...), - for WAV on stdout.")
    ],
    force: Annotated[bool, typer.Option("--force", "-f", help="Overwrite an existing output.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary.")] = False,
) -> None:
    """Decode a .ddc file to 16-bit PCM audio."""
    from codec.decoder import iter_blocks

    started = time.perf_counter()
    try:
        fmt = output_format(target)
        with _open_input(source) as fileobj:
            header, exponents, codes = bitstream.read(fileobj)
        with atomic_output(target, force, protect=[source]) as out:
            write_pcm16(out, iter_blocks(header, exponents, codes), header.sample_rate, header.channels, fmt)
    except DdcodecError as exc:
        raise fail(str(exc)) from None
    status(f"{target}: {header.duration:.2f} s decoded in {time.perf_counter() - started:.2f} s", quiet)


@app.command()
def info(
    source: Annotated[str, typer.Argument(help=".ddc file, or - for stdin.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the header as JSON.")] = False,
) -> None:
    """Describe a .ddc file's header (the payload is checked too)."""
    try:
        with _open_input(source) as fileobj:
            header, *_ = bitstream.read(fileobj)
    except DdcodecError as exc:
        raise fail(str(exc)) from None
    summary = _describe(header)
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        width = max(map(len, summary))
        for key, value in summary.items():
            typer.echo(f"{key:<{width}}  {value}")


@app.command("eval")
def evaluate(
    reference: Annotated[Path, typer.Argument(help="Original audio file.")],
    test: Annotated[
        Path, typer.Argument(help="Decoded audio, or a .ddc (decoded here), or a lossy file (.mp3, .ogg).")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the scores as JSON.")] = False,
) -> None:
    """Score TEST against REFERENCE: SNR, SI-SDR, LSD, PESQ-WB and STOI (these two need the eval extra), kbps.

    TEST is aligned to REFERENCE by cross-correlation and resampled to its rate
    first. kbps and the compression ratio are TEST's file size over its duration.
    """
    from codec import metrics

    try:
        ref, rate = read_audio(str(reference))
        if test.suffix == ".ddc":
            from codec.decoder import decode_stream

            with _open_input(str(test)) as fileobj:
                header, decoded = decode_stream(fileobj)
            test_rate = header.sample_rate
        else:
            decoded, test_rate = read_audio(str(test))
        if decoded.shape[1] != ref.shape[1]:
            raise DdcodecError(f"{test} has {decoded.shape[1]} channels, {reference} has {ref.shape[1]}")
        scores = metrics.score(ref, metrics.resample(decoded, test_rate, rate), rate)
    except DdcodecError as exc:
        raise fail(str(exc)) from None
    size = test.stat().st_size
    scores |= {
        "kbps": metrics.bitrate_kbps(size, len(ref) / rate),
        "compression_ratio_vs_pcm16": metrics.compression_ratio(size, len(ref), ref.shape[1]),
    }
    if as_json:
        typer.echo(json.dumps(scores, indent=2))
    else:
        for key, value in scores.items():
            typer.echo(f"{key:<27}  {'n/a' if value is None else f'{value:.3f}'}")


def _describe(header: Header) -> dict:
    size = bitstream.HEADER_BYTES + header.payload_bytes
    return {
        "format_version": header.version,
        **dataclasses.asdict(header),
        "mode": f"spectral ({header.n_fft}-point STFT)" if header.synthesis else "waveform",
        "segments": header.segments,
        "duration_s": round(header.duration, 6),
        "file_bytes": size,
        "bitrate_kbps": round(size * 8 / header.duration / 1000, 3),
        "compression_ratio_vs_pcm16": round(header.samples * 2 / size, 2),
    }


@contextlib.contextmanager
def _open_input(source: str) -> Iterator[BinaryIO]:
    """Open a .ddc path (or stdin for "-") for reading, turning OS errors into one-line DdcodecErrors."""
    if source == STDIO:
        yield sys.stdin.buffer
        return
    if Path(source).is_dir():
        raise DdcodecError(f"{source} is a directory")
    try:
        fileobj = open(source, "rb")  # noqa: SIM115 - closed below; OSError must be caught here only
    except OSError as exc:
        raise DdcodecError(f"cannot open {source}: {exc.strerror}") from None
    with fileobj:
        yield fileobj


@contextlib.contextmanager
def _progress(quiet: bool) -> Iterator["Progress | None"]:
    """A rich progress bar for the fit, showing the running fit SNR; None when quiet."""
    if quiet:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = TextColumn("{task.percentage:>3.0f}%  fit SNR {task.fields[snr]:5.1f} dB")
    timers = (TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(
        TextColumn("fitting"), BarColumn(), columns, *timers, transient=True, console=Console(stderr=True)
    ) as bar:
        task = bar.add_task("fit", total=None, snr=0.0)
        yield lambda done, total, snr: bar.update(task, completed=done, total=total, snr=snr)


def main() -> None:
    app()
