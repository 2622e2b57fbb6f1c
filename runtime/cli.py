"""fclf-edge: predict, inspect and verify with the ONNX model. A thin layer over the library."""

from __future__ import annotations

import contextlib
import os
import sys
from typing import IO, TYPE_CHECKING, Any

import click

from .cliutil import (
    BoundedInt,
    FiniteFloat,
    GroupWithExitCodes,
    errors_to_exit_codes,
    progress_bar,
    require,
    run_command,
    stderr_is_tty,
)
from .errors import InvalidInputError, MismatchError

if TYPE_CHECKING:
    from .classifier import Classifier

MODEL_HELP = "ONNX model from export-onnx (default: the bundled model)."


@click.group(
    cls=GroupWithExitCodes,  # every --help ends with the exit codes, from messages.json
    help="Classify Fahrenheit temperatures as above freezing (1) or not (0) with "
    "onnxruntime alone.",
)
@click.version_option(package_name="fclf-edge")
def main() -> None:
    pass


def _load(model: str | None) -> Classifier:
    from .classifier import Classifier

    return Classifier(model)


@main.command(
    context_settings={"ignore_unknown_options": True},  # so `predict -40` is a value
    help="Print the label (1 = above freezing) for each VALUE in °F, in order.\n\n"
    "Values come from arguments, or from --input FILE / '-' (stdin): one per line, a CSV "
    "column or a JSON Lines field with --column. gzip, bz2 and xz input, a UTF-8 BOM and "
    "UTF-16 are detected. Blank values, words, NaN, infinities, values below absolute zero "
    "(-459.67 °F), values beyond float32 and records over 64 KiB are invalid.\n\n"
    "Each value is rounded to float32 first, as the model sees it: 32.000001 is the float32 "
    "32.0 and gets 0, although the formula on the exact decimal says 1. This affects only "
    "decimals in (32, 32.0000019073486328125], which round to 32.0.",
)
@click.argument("values", nargs=-1)
@click.option(
    "--input",
    "-i",
    "input_path",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Read values from FILE ('-' for stdin).",
)
@click.option(
    "--column", "-c", help="CSV column (header NAME or 0-based INDEX) or JSON Lines field."
)
@click.option(
    "--input-format",
    type=click.Choice(["auto", "lines", "csv", "jsonl"]),
    default="auto",
    show_default=True,
    help="auto: JSON Lines if the first record starts with '{', else CSV with --column, "
    "else one value per line.",
)
@click.option(
    "--delimiter",
    "-d",
    help="CSV delimiter (one character, or 'tab'); default: the one of , ; TAB | found most "
    "often in the first line.",
)
@click.option("--decimal-comma", is_flag=True, help="Read 32,5 as 32.5 (not with ',' delimiter).")
@click.option(
    "--encoding",
    "-e",
    help="Text encoding of the input (any codec Python knows, e.g. cp1252, latin-1, "
    "utf-16-le); default: UTF-8, or UTF-16 by its byte-order mark.",
)
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(["text", "csv", "jsonl", "json"]),
    default=None,
    help="Output table format  [default: text]",
)
@click.option(
    "--append",
    "-a",
    is_flag=True,
    help="Write each input record back with 'label' (and 'probability') added, in the "
    "input's own format.",
)
@click.option("--proba", "-p", is_flag=True, help="Add the probability of 'above freezing'.")
@click.option(
    "--on-invalid",
    type=click.Choice(["error", "skip"]),
    default="error",
    show_default=True,
    help="error: stop at the first bad value (exit 2). skip: report each bad line on "
    "stderr and mark it 'skipped' in the output.",
)
@click.option(
    "--output",
    "-o",
    "output_path",
    type=click.Path(dir_okay=False),
    help="Write to FILE atomically (nothing is written if input is invalid).",
)
@click.option("--model", "-m", type=click.Path(), help=MODEL_HELP)
def predict(
    values: tuple[str, ...],
    input_path: str | None,
    column: str | None,
    input_format: str,
    delimiter: str | None,
    decimal_comma: bool,
    encoding: str | None,
    fmt: str | None,
    append: bool,
    proba: bool,
    on_invalid: str,
    output_path: str | None,
    model: str | None,
) -> None:
    _refuse_unknown_options(values)
    with errors_to_exit_codes():
        if input_path is not None and values:
            raise InvalidInputError("give values as arguments or with --input, not both")
        if values == ("-",):
            input_path, values = "-", ()
        if input_path is None and not values:
            raise InvalidInputError("no values: pass VALUE arguments, --input FILE, or '-'")
        if input_path is None:
            for name, given in (
                ("--column", column is not None),
                ("--input-format", input_format != "auto"),
                ("--delimiter", delimiter is not None),
                ("--encoding", encoding is not None),
            ):
                if given:
                    raise InvalidInputError(f"{name} needs --input FILE or '-'")
        if append and fmt is not None:
            raise InvalidInputError("--append writes the input's own format; drop --format")
        if delimiter is not None and delimiter.lower() in ("tab", "\\t"):
            delimiter = "\t"
        classifier = _load(model)
        options = {
            "column": column,
            "input_format": input_format,
            "delimiter": delimiter,
            "decimal_comma": decimal_comma,
            "encoding": encoding,
            "fmt": fmt or "text",
            "append": append,
            "proba": proba,
            "on_invalid": on_invalid,
        }
        _predict(classifier, values, input_path, output_path, options)


def _refuse_unknown_options(values: tuple[str, ...]) -> None:
    """`--porba` is a mistyped option, not a value: no number starts with `--` and a letter.

    predict takes unknown options as values (so that `predict -40` is a value); a word that
    starts with `--` can only be an option, so name it as one.
    """
    for value in values:
        if value.startswith("--") and value[2:3].isalpha():
            import difflib

            ctx = click.get_current_context()
            names = [name for param in ctx.command.params for name in param.opts]
            near = difflib.get_close_matches(value.split("=", 1)[0], names, n=3)
            raise click.NoSuchOption(value, possibilities=near, ctx=ctx)


def _predict(
    classifier: Classifier,
    values: tuple[str, ...],
    input_path: str | None,
    output_path: str | None,
    options: dict[str, Any],
) -> None:
    from .stream import InvalidRowError, predict_stream

    where = "argument" if input_path is None else "line"

    def report_skip(line: int, reason: str) -> None:
        click.echo(f"skipped {where} {line}: {reason}", err=True)

    with contextlib.ExitStack() as stack:
        source: IO[bytes] | tuple[str, ...] = values
        if input_path == "-":
            source = sys.stdin.buffer
        elif input_path is not None:
            source = stack.enter_context(_open_input(input_path))
        out: IO[bytes] = sys.stdout.buffer
        if output_path is not None:
            # No tempfile here: _atomic creates its temp file with os.open (mode 0666 less the
            # umask, as any new file gets), and run_command has imported it for stdout already.
            from ._atomic import atomic_writer

            out = stack.enter_context(atomic_writer(output_path))
        try:
            summary = predict_stream(classifier, source, out, on_skip=report_skip, **options)
        except InvalidRowError as exc:
            hint = " (use --on-invalid skip to skip bad lines)" if input_path else ""
            raise InvalidInputError(f"{exc}{hint}", line=exc.line) from None
        except BrokenPipeError:
            # The reader went away (`| head`): stop quietly, as Unix tools do.
            _silence_stdout()
            return
        if summary.rows == 0:
            name = "stdin" if input_path == "-" else input_path
            raise InvalidInputError(f"input {name} is empty: no values to classify")
    if summary.skipped:
        click.echo(f"{summary.skipped} of {summary.rows} {where}s skipped", err=True)


def _open_input(path: str) -> IO[bytes]:
    if not os.path.exists(path):
        raise InvalidInputError(f"input file not found: {path}")
    try:
        return open(path, "rb")
    except OSError as exc:
        raise InvalidInputError(f"cannot read input file {path}: {exc.strerror}") from None


def _silence_stdout() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


@main.command(help="Describe a model: inputs, outputs, metadata, size and sha256.")
@click.option("--model", "-m", type=click.Path(), help=MODEL_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def info(model: str | None, as_json: bool) -> None:
    with errors_to_exit_codes():
        from .info import describe

        click.echo(describe(_load(model), as_json=as_json))


@main.command(
    help="Check a model against the formula C = (F - 32) / 1.8 > 0 on float32 inputs.\n\n"
    "--exhaustive walks every float32 in the range (2,315,392,453 values for the default "
    "range); otherwise --samples random values. Exits 1 on any mismatch.",
)
@click.option("--model", "-m", type=click.Path(), help=MODEL_HELP)
@click.option("--exhaustive", is_flag=True, help="Check every float32 in the range.")
@click.option(
    "--samples",
    "-n",
    # At most 2**32: more draws than there are float32 values; --exhaustive checks them all.
    type=BoundedInt(min=1, max=2**32),
    default=1_000_000,
    show_default=True,
    help="Random values to check (without --exhaustive).",
)
@click.option(
    "--range",
    "value_range",
    type=(FiniteFloat(), FiniteFloat()),
    default=None,
    help="LO HI in °F  [default: -459.67 10000]",
)
# A 32-bit seed: what the Node CLI's generator takes, so both accept the same seeds.
@click.option("--seed", type=BoundedInt(min=0, max=2**32 - 1), default=0, show_default=True)
@click.option(
    "--rule-threshold",
    type=FiniteFloat(float32=True),
    default=None,
    help="Check against F > this value instead of the formula.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar on stderr.")
def verify(
    model: str | None,
    exhaustive: bool,
    samples: int,
    value_range: tuple[float, float] | None,
    seed: int,
    rule_threshold: float | None,
    quiet: bool,
) -> None:
    with errors_to_exit_codes():
        from . import verify as v
        from .floats import DOMAIN_HIGH, DOMAIN_LOW, count_floats
        from .formula import CELSIUS_RULE, threshold_rule
        from .messages import text
        from .validate import problem_with

        low, high = value_range or (float(DOMAIN_LOW), float(DOMAIN_HIGH))
        for name, value in (("LO", low), ("HI", high)):
            reason = problem_with(value)
            if reason is not None:
                raise InvalidInputError(
                    text("verify.range_value", name=name, value=repr(value), reason=reason)
                )
        if not low <= high:
            raise InvalidInputError(text("verify.range_order", low=repr(low), high=repr(high)))
        rule = CELSIUS_RULE if rule_threshold is None else threshold_rule(rule_threshold)
        classifier = _load(model)
        total = count_floats(low, high) if exhaustive else samples
        with progress_bar(total, "verifying", stderr_is_tty() and not quiet) as bar:
            report = v.verify(
                classifier,
                low=low,
                high=high,
                exhaustive=exhaustive,
                samples=samples,
                seed=seed,
                rule=rule,
                progress=bar.update if bar else None,
            )
        click.echo(
            f"model      {classifier.path}\n"
            f"rule       {report.rule}\n"
            f"range      [{low!r}, {high!r}] °F, {report.mode}\n"
            f"checked    {report.checked:,} values\n"
            f"mismatches {report.mismatches:,} ({report.mismatches / report.checked:.4%})\n"
            f"probability {report.probability_violations:,} violations "
            "(monotone in x; >= 0.5 exactly when label is 1)\n"
            f"time       {report.seconds:.2f} s ({report.rows_per_second:,.0f} values/s)"
        )
        if classifier.boundary is not None:
            click.echo(f"boundary   model {classifier.boundary!r} °F (from its metadata)")
        if report.wrong_span is not None:
            lo, hi = report.wrong_span
            click.echo(f"wrong      every mismatch lies in [{lo!r}, {hi!r}] °F")
        for x, got, want in report.first:
            click.echo(f"  mismatch at {x!r} °F: model {got}, formula {want}")
        if report.mismatches or report.probability_violations:
            raise MismatchError(
                text(
                    "verify.mismatch",
                    mismatches=f"{report.mismatches:,}",
                    checked=f"{report.checked:,}",
                    violations=f"{report.probability_violations:,}",
                )
            )


@main.command(
    help="Serve the model over HTTP with the Open Inference Protocol (KServe V2 REST), for "
    "apps in any language: curl, Triton's clients, Node-RED, Home Assistant.\n\n"
    "Listens on 127.0.0.1 (this machine only) unless --host says otherwise; --host 0.0.0.0 "
    "lets every network the machine is on call the model (no authentication, no TLS). "
    "The model version in URLs is the first 12 hex digits of the model file's sha256. "
    "SIGTERM or Ctrl-C lets in-flight requests finish and exits 0. Needs the serve extra: "
    "pip install 'fclf-edge[serve]'. See docs/serve.md.",
)
@click.option("--model", "-m", type=click.Path(), help=MODEL_HELP)
@click.option("--name", help="Model name in URLs  [default: the model file's stem, fahrenheit]")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=BoundedInt(0, 65535), default=8000, show_default=True, help="0: any free."
)
@click.option(
    "--threads",
    type=BoundedInt(1, 64),
    default=1,
    show_default=True,
    help="onnxruntime threads per inference, and threads for bodies over 64 KiB.",
)
@click.option(
    "--max-body-size",
    type=BoundedInt(1024, 1 << 40),
    default=16 * 1024 * 1024,
    show_default=True,
    help="Largest request body in bytes; larger gets 413 unread (4M values in binary).",
)
@click.option(
    "--max-concurrency",
    type=BoundedInt(1, 1 << 20),
    default=256,
    show_default=True,
    help="Inference requests in flight at once; more get 503.",
)
@click.option(
    "--max-connections",
    type=BoundedInt(1, 1 << 20),
    default=4096,
    show_default=True,
    help="Open connections at once; requests beyond get 503.",
)
@click.option(
    "--timeout-request",
    type=FiniteFloat(0.1, 86400.0),
    default=10.0,
    show_default=True,
    help="Seconds a connection has to send a whole request, else it is closed.",
)
@click.option(
    "--timeout-keep-alive",
    type=FiniteFloat(1.0, 86400.0),
    default=5.0,
    show_default=True,
    help="Seconds an idle keep-alive connection stays open.",
)
@click.option(
    "--graceful-timeout",
    type=FiniteFloat(1.0, 86400.0),
    default=10.0,
    show_default=True,
    help="Seconds in-flight requests get to finish on SIGTERM.",
)
@click.option(
    "--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
)
@click.option("--access-log/--no-access-log", default=False, show_default=True)
def serve(
    model: str | None,
    name: str | None,
    host: str,
    port: int,
    threads: int,
    max_body_size: int,
    max_concurrency: int,
    max_connections: int,
    timeout_request: float,
    timeout_keep_alive: float,
    graceful_timeout: float,
    log_format: str,
    log_level: str,
    access_log: bool,
) -> None:
    with errors_to_exit_codes():
        # The server's libraries load here only: `fclf-edge predict` never imports them.
        require("uvicorn", "httptools", "orjson", extra="serve", command="fclf-edge serve")
        from .serve import Limits, Network, ServeOptions
        from .serve import serve as serve_forever

        options = ServeOptions(
            model=model,
            name=name,
            threads=threads,
            network=Network(
                host=host,
                port=port,
                max_connections=max_connections,
                timeout_keep_alive=timeout_keep_alive,
                timeout_request=timeout_request,
                graceful_timeout=graceful_timeout,
            ),
            limits=Limits(
                max_body_bytes=max_body_size,
                max_concurrency=max_concurrency,
                threads=threads,
            ),
            log_format=log_format,
            log_level=log_level,
            access_log=access_log,
        )
        code = serve_forever(options)
    sys.exit(code)


def run() -> None:
    """Console entry point: SIGTERM handling, guarded stdout, flush, fast exit (run_command)."""
    run_command(main)
