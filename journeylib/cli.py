"""The ``journey`` command: validate data, run the report, make synthetic data, run the demo.

Exit codes (``docs/scheduling.md``):

* 0 success, also when ``--run-id`` names a run that is already published (nothing is run);
* 1 a notebook failed, including a cell that ran past ``report.cell_timeout_seconds`` (the
  message names notebook and cell);
* 2 the config, the data or the command line is wrong (a readable message, never a traceback);
* 3 the PII scan found e-mail addresses, phone numbers or raw customer ids in the rendered
  report (files, kinds and counts listed; nothing published);
* 130 interrupted.

Progress and log records go to stderr; stdout carries only the result (for ``run`` and ``demo``
the path of the report's ``index.html`` on the last line), so ``open "$(journey demo)"`` works.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from journeylib import __version__

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_NOTEBOOK_FAILED = 1
EXIT_USAGE = 2
EXIT_PII_FOUND = 3
EXIT_INTERRUPTED = 130

DEMO_CONFIG = "configs/demo.yaml"
SAMPLE_DIR = "data/sample"


class CLIError(Exception):
    """A user error with a readable message; the CLI exits with ``code``."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def _out(text: str) -> None:
    """Write the command's result to stdout (the only place the package writes to it)."""
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()


def _user_errors() -> tuple[type[BaseException], ...]:
    """Exception types that mean "fix your config, data or arguments" (exit 2)."""
    from journeylib.config import ConfigError
    from journeylib.runner import RunError

    errors: list[type[BaseException]] = [ConfigError, RunError]
    try:
        from journeylib.validation import DataValidationError

        errors.append(DataValidationError)
    except ImportError:  # pragma: no cover - validation module not present
        pass
    try:
        from journeylib.io import DataValidationError as IODataValidationError

        errors.append(IODataValidationError)
    except ImportError:
        pass
    return tuple(errors)


def _date(value: str) -> str:
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def _names(value: str) -> list[str]:
    names = [n.strip() for n in value.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError("give at least one notebook name")
    return names


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return n


# ---- validate -----------------------------------------------------------------------------------


def _rows(info: Any) -> int | None:
    if isinstance(info, int):
        return info
    if isinstance(info, dict):
        for key in ("rows", "n_rows", "row_count", "rows_out", "count"):
            if isinstance(info.get(key), int):
                return info[key]
    return None


def summarise_manifest(manifest: dict[str, Any]) -> list[str]:
    """Readable lines about a prepare manifest: tables with row counts, non-fatal issues."""
    lines: list[str] = []
    tables = manifest.get("rows") or manifest.get("tables")
    if isinstance(tables, dict) and tables:
        lines.append("tables:")
        width = max(len(str(name)) for name in tables)
        for name, info in tables.items():
            rows = _rows(info)
            lines.append(
                f"  {name:<{width}}  {rows:>10,} rows" if rows is not None else f"  {name}"
            )
    notices = manifest.get("notices", manifest.get("issues"))
    if isinstance(notices, dict):  # table -> list of notices
        notices = [n for group in notices.values() for n in (group or [])]
    if isinstance(notices, list):
        if not notices:
            lines.append("non-fatal issues: none")
        else:
            lines.append(f"non-fatal issues: {len(notices)}")
            for n in notices:
                if isinstance(n, dict):
                    where = n.get("table", "")
                    if n.get("column"):
                        where += f".{n['column']}"
                    count = n.get("count", "")
                    action = f" ({n['action']})" if n.get("action") else ""
                    lines.append(f"  - {where}: {n.get('check', '')}: {count} row(s){action}")
                else:
                    lines.append(f"  - {n}")
    if not lines:
        lines.append("manifest keys: " + ", ".join(sorted(map(str, manifest))))
    return lines


def cmd_validate(args: argparse.Namespace) -> int:
    from journeylib.config import load_config
    from journeylib.io import prepare

    config = load_config(args.config)
    result = prepare(config, force=True)
    lines = [f"{args.config}: config and data are valid (client {config.client})"]
    lines += summarise_manifest(getattr(result, "manifest", {}) or {})
    lines.append(f"processed tables in {config.processed_dir}")
    _out("\n".join(lines))
    return EXIT_OK


# ---- run ----------------------------------------------------------------------------------------


def _progress(interactive: bool):  # noqa: ANN202 - journeylib.log.Progress
    from journeylib.log import LogProgress, TerminalProgress

    return TerminalProgress(sys.stderr) if interactive else LogProgress()


def _run(config: str, args: argparse.Namespace) -> int:
    from journeylib.piiscan import PiiFound
    from journeylib.runner import NotebookFailed, run

    try:
        result = run(
            config,
            only=args.only,
            as_of=args.as_of,
            run_id=args.run_id,
            notebooks_dir=getattr(args, "notebooks_dir", None),
            progress=_progress(args.interactive),
        )
    except NotebookFailed as exc:
        raise CLIError(str(exc), EXIT_NOTEBOOK_FAILED) from None
    except PiiFound as exc:
        raise CLIError(str(exc), EXIT_PII_FOUND) from None
    _out(str(result.index_html))
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    return _run(args.config, args)


# ---- synth & demo -------------------------------------------------------------------------------


#: Above this many customers `journey synth` writes CSV chunk by chunk (bounded memory) instead
#: of generating everything in memory first.
STREAM_ABOVE = 200_000


def _synth(
    out: Path,
    *,
    customers: int,
    seed: int,
    start: str,
    end: str,
    language: str,
    format: str = "csv",  # noqa: A002 - the CLI's --format
) -> list[Path]:
    from journeylib.synth import SynthConfig, generate, write_raw, write_raw_stream

    cfg = SynthConfig(n_customers=customers, seed=seed, start=start, end=end, language=language)
    if format == "parquet" or customers > STREAM_ABOVE:

        def progress(i: int, rows: dict[str, int]) -> None:
            events = rows["web_events.csv"]
            log.info(
                "synth: chunk %d, %d customers, %d events written",
                i + 1,
                rows["customers.csv"],
                events,
            )

        write_raw_stream(cfg, out, format=format, progress=progress)  # type: ignore[arg-type]
    else:
        write_raw(generate(cfg), out)
    return sorted(p for p in out.iterdir() if not p.name.startswith(("_", ".")))


def cmd_synth(args: argparse.Namespace) -> int:
    from journeylib.project import resolve_path

    if args.start > args.end:
        raise CLIError(f"--start {args.start} is after --end {args.end}")
    out = resolve_path(args.out)
    files = _synth(
        out,
        customers=args.customers,
        seed=args.seed,
        start=args.start,
        end=args.end,
        language=args.language,
        format=args.format,
    )
    lines = [f"{args.customers} synthetic customers (seed {args.seed}) written to {out}"]
    lines += [f"  {p}" for p in files]
    _out("\n".join(lines))
    return EXIT_OK


def _missing_sources(config_path: str) -> list[Path]:
    from journeylib.config import load_config

    config = load_config(config_path)
    return [
        path
        for table, _ in config.data.sources.items()
        if not (path := config.source_path(table)).exists()
    ]


def cmd_demo(args: argparse.Namespace) -> int:
    from journeylib.project import resolve_path

    missing = _missing_sources(DEMO_CONFIG)
    if missing:
        log.info("sample data missing (%s); generating it in %s", missing[0].name, SAMPLE_DIR)
        _synth(
            resolve_path(SAMPLE_DIR),
            customers=300,
            seed=42,
            start="2025-01-01",
            end="2025-06-30",
            language="en",
        )
        still = _missing_sources(DEMO_CONFIG)
        if still:
            raise CLIError(
                f"{DEMO_CONFIG} expects {', '.join(map(str, still))}, which `journey synth` "
                "did not write; check data.raw_dir and data.sources in the demo config"
            )
    return _run(DEMO_CONFIG, args)


# ---- parser -------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The ``journey`` argument parser (exposed for tests and documentation)."""
    parser = argparse.ArgumentParser(
        prog="journey",
        description="Customer journey workbook: validate client data and render reports.",
    )
    parser.add_argument("--version", action="version", version=f"journeylib {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="show debug log records on stderr"
    )
    parser.add_argument(
        "--log-lines",
        action="store_true",
        help="timestamped log lines even on a terminal (the default when stderr is not one)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "validate",
        help="validate a client config and its raw exports, and ingest them",
        description="Load CONFIG, validate every raw export and (re)build the processed tables.",
    )
    p.add_argument("config", metavar="CONFIG", help="client YAML, e.g. configs/demo.yaml")
    p.set_defaults(func=cmd_validate)

    def add_run_options(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--only",
            type=_names,
            metavar="NAMES",
            help="comma-separated notebooks to run, e.g. 00_data_quality,10_journey_stages",
        )
        p.add_argument("--as-of", type=_date, metavar="DATE", help="observation cut-off date")
        p.add_argument(
            "--run-id",
            metavar="ID",
            help="folder name of the run (default: UTC timestamp); an id that is already "
            "published is not run again (exit 0), e.g. the scheduler's date for retries",
        )

    p = sub.add_parser(
        "run",
        help="execute the notebooks and publish reports/<client>/<run_id>/",
        description="Execute the client's notebooks and write an immutable HTML report; "
        "prints the path of its index.html. Exit codes: 0 ok (or already published), "
        "1 a notebook failed or timed out, 2 bad config/data/arguments, 3 personal data found "
        "in the report (see docs/scheduling.md).",
    )
    p.add_argument("config", metavar="CONFIG", help="client YAML, e.g. configs/demo.yaml")
    add_run_options(p)
    p.add_argument(
        "--notebooks-dir",
        metavar="DIR",
        help="folder of NN_name.ipynb notebooks (default: notebooks/)",
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "synth",
        help="write a synthetic raw data set (the demo sample)",
        description="Generate synthetic customers, events, orders and feedback as raw exports.",
    )
    p.add_argument("--customers", type=_positive, default=300, metavar="N", help="default 300")
    p.add_argument("--seed", type=int, default=42, metavar="S", help="default 42")
    p.add_argument("--start", type=_date, default="2025-01-01", metavar="DATE")
    p.add_argument("--end", type=_date, default="2025-06-30", metavar="DATE")
    p.add_argument("--language", choices=["en", "id"], default="en")
    p.add_argument("--out", default=SAMPLE_DIR, metavar="DIR", help=f"default {SAMPLE_DIR}")
    p.add_argument(
        "--format",
        choices=["csv", "parquet"],
        default="csv",
        help="csv: one file per table (default); parquet: partitioned Parquet, one folder per "
        "table with a file per chunk of 50,000 customers, written chunk by chunk in bounded "
        f"memory (as CSV is above {STREAM_ABOVE:,} customers), e.g. 10M customers in under 2 GB",
    )
    p.set_defaults(func=cmd_synth)

    p = sub.add_parser(
        "demo",
        help="make the sample data if missing, then run configs/demo.yaml",
        description=f"Generate {SAMPLE_DIR} only if it is missing (committed files are never "
        f"rewritten), then run {DEMO_CONFIG}; prints the path of index.html.",
    )
    add_run_options(p)
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``journey`` console script; returns the exit code.

    Parameters
    ----------
    argv
        Arguments without the program name; default ``sys.argv[1:]``.
    """
    from journeylib.log import configure_logging, reset_logging

    parser = build_parser()
    args = parser.parse_args(argv)
    interactive = configure_logging(
        level=logging.DEBUG if args.verbose else logging.INFO,
        interactive=False if args.log_lines else None,
    )
    args.interactive = interactive
    try:
        return int(args.func(args))
    except CLIError as exc:
        sys.stderr.write(f"journey: error: {exc}\n")
        return exc.code
    except _user_errors() as exc:
        sys.stderr.write(f"journey: error: {exc}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("journey: interrupted; nothing was published\n")
        return EXIT_INTERRUPTED
    finally:
        reset_logging()


def console_main() -> None:  # pragma: no cover - thin wrapper
    """``sys.exit(main())`` for ``python -m journeylib``."""
    sys.exit(main())
