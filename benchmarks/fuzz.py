"""The full form of the fuzz suite: every input path, 10,000 inputs each.

The CI tests (``tests/cli/test_cli_fuzz.py``, ``test_repost_bad_input.py``,
``test_bundle_import_bad_input.py``, the SIE parser and money tests) run a few hundred
inputs per path; this runs the same generators (:mod:`syncstate.testing.fuzz`) at full
size, seeded, in process, and counts what must never happen:

* **tracebacks** - an exception escaped (or a traceback was printed);
* **wrong exit codes** - a status the command's row in docs/cli.md does not allow;
* **bad messages** - a refusal that is not one line (one JSON object with ``--json``);
* **refused writes** - a refused ``bundle import`` that changed the database;
* **hangs** - an input that ran longer than ``--timeout`` seconds.

Paths: ``cli`` (every command with options drawn from its own parser and hostile
values; ``demo`` and ``serve`` left out), ``repost-<calculator>`` for each calculator,
``repost-load``, ``bundle-import``, ``sie`` (the parser, and ``sie check``), ``money``
(``parse_amount``: refused with ``MoneyError``, or read and printed as a plain decimal
that reads back equal).

    python benchmarks/fuzz.py              # 10,000 inputs per path
    python benchmarks/fuzz.py --quick      # 100 per path (CI)
    python benchmarks/fuzz.py --paths sie money --size 2000 --seed 7

The last line printed is the JSON summary; every target is 0.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import json
import os
import random
import re
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from syncstate import SQLiteStore, TimeEntry
from syncstate.adapters.backends.sie.parser import parse_sie
from syncstate.cli import COMMANDS, build_parser, main
from syncstate.errors import InputError, SieParseError
from syncstate.money import format_amount, parse_amount
from syncstate.testing.fuzz import (
    BUNDLE_CSV,
    REPOST_SAMPLES,
    command_options,
    judge,
    money_value,
    mutate_csv,
    mutate_json,
    mutate_sie,
    random_argv,
    table_rows,
)

PLAIN = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
PROBLEMS = ("tracebacks", "wrong_exit_codes", "bad_messages", "refused_writes", "hangs")
_KIND = {
    "traceback": "tracebacks",
    "exit code": "wrong_exit_codes",
    "message": "bad_messages",
}


class Hang(BaseException):
    """Raised by the alarm when one input runs too long."""


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise Hang


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """``syncstate ARGV`` in process: (status, stdout, stderr); Hang passes through."""
    out, err = io.StringIO(), io.StringIO()
    stdin = sys.stdin
    sys.stdin = io.StringIO("")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = main(argv)
            except SystemExit as exc:
                status = exc.code if isinstance(exc.code, int) else 2
            except Hang:
                raise
            except BaseException as exc:  # escaped main: the worst case
                return -1, out.getvalue(), f"Traceback (escaped): {exc!r}"
    finally:
        sys.stdin = stdin
    return status, out.getvalue(), err.getvalue()


class Fuzzer:
    """Runs one path's inputs and counts the problems (examples kept for the report)."""

    def __init__(self, folder: Path, size: int, seed: int, timeout: float) -> None:
        self.folder = folder
        self.size = size
        self.seed = seed
        self.timeout = timeout
        self.problems: Counter[str] = Counter()
        self.examples: dict[str, str] = {}

    def note(self, problem: str, what: str) -> None:
        self.problems[problem] += 1
        self.examples.setdefault(problem, what[:300])

    def each(self, path: str, one: Callable[[random.Random, int], None]) -> tuple[int, float]:
        """Run ``one(rng, n)`` ``size`` times under the alarm; return (inputs, seconds)."""
        rng = random.Random(f"{self.seed}:{path}")
        started = time.perf_counter()
        for n in range(self.size):
            signal.setitimer(signal.ITIMER_REAL, self.timeout)
            try:
                one(rng, n)
            except Hang:
                self.note("hangs", f"{path} input {n}")
            except Exception as exc:  # the input path itself raised: a traceback
                self.note("tracebacks", f"{path} input {n}: {exc!r}")
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        return self.size, time.perf_counter() - started

    def check(self, result: tuple[int, str, str], allowed: tuple[int, ...], what: str) -> int:
        status, out, err = result
        problem = judge(status, out, err, allowed=allowed, as_json="--json" in what)
        if problem is not None:
            self.note(_KIND[problem], f"{what} -> {status}: {err.strip()[:200]}")
        return status


def cli_path(fz: Fuzzer) -> Callable[[random.Random, int], None]:
    work = fz.folder / "cli"
    work.mkdir()
    (work / "garbage.db").write_bytes(os.urandom(3000))
    (work / "text.json").write_text('{"documents": [}', encoding="utf-8")
    (work / "receivables.json").write_text(
        json.dumps(REPOST_SAMPLES["receivables"]), encoding="utf-8"
    )
    with SQLiteStore(work / "ours.db") as store:  # a real syncstate database
        store.ingest(
            "acme",
            [
                TimeEntry(source_id=f"t{i}", employee="ann", date=dt.date(2026, 3, 2), hours="1")
                .to_record("acme")
                for i in range(5)
            ],
            at=dt.datetime(2026, 3, 2, tzinfo=dt.UTC),
            actor="fuzz",
        )  # fmt: skip
    files = ["ours.db", "garbage.db", "missing.db", "text.json", "receivables.json", str(work)]
    commands = {
        path: options
        for path, options in command_options(build_parser()).items()
        if path[0] in COMMANDS and path[0] not in ("demo", "serve")
    }

    def one(rng: random.Random, n: int) -> None:
        argv = random_argv(rng, commands, files)
        cwd = os.getcwd()
        os.chdir(work)
        try:
            fz.check(run_cli(argv), (0, 1, 2), " ".join(argv))
        finally:
            os.chdir(cwd)

    return one


def repost_path(fz: Fuzzer, calculator: str) -> Callable[[random.Random, int], None]:
    file = fz.folder / f"repost-{calculator}.json"

    def one(rng: random.Random, n: int) -> None:
        kind, raw = mutate_json(rng, REPOST_SAMPLES[calculator])
        file.write_bytes(raw)
        argv = ["repost", calculator, str(file), *(["--json"] if rng.random() < 0.5 else [])]
        fz.check(run_cli(argv), (0, 2), f"{kind}: {' '.join(argv)}")

    return one


def repost_load_path(fz: Fuzzer) -> Callable[[random.Random, int], None]:
    file, db = fz.folder / "load.json", fz.folder / "load.db"

    def one(rng: random.Random, n: int) -> None:
        name = rng.choice(["receivables", "wip"])
        kind, raw = mutate_json(rng, REPOST_SAMPLES[name])
        file.write_bytes(raw)
        for leftover in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            leftover.unlink(missing_ok=True)
        argv = ["repost", "load", str(file), "--db", str(db), "--company", "acme"]
        argv += ["--json"] if rng.random() < 0.5 else []
        fz.check(run_cli(argv), (0, 2), f"{kind}: {' '.join(argv)}")

    return one


def bundle_path(fz: Fuzzer) -> Callable[[random.Random, int], None]:
    db, file = fz.folder / "bundle.db", fz.folder / "tx.csv"
    seed = fz.folder / "seed.csv"
    seed.write_text(BUNDLE_CSV.replace("u1,", "seed1,").replace("p1,", "seed2,"), "utf-8")
    run_cli(["bundle", "import", "--db", str(db), "--company", "acme", str(seed)])

    def one(rng: random.Random, n: int) -> None:
        kind, raw = mutate_csv(rng)
        file.write_bytes(raw)
        argv = ["bundle", "import", "--db", str(db), "--company", "acme", str(file)]
        argv += ["--json"] if rng.random() < 0.5 else []
        before = table_rows(db)
        status = fz.check(run_cli(argv), (0, 2), f"{kind}: {' '.join(argv)}")
        if status == 2 and table_rows(db) != before:
            fz.note("refused_writes", f"{kind}: a refused import changed {db.name}")

    return one


def sie_path(fz: Fuzzer) -> Callable[[random.Random, int], None]:
    file = fz.folder / "fuzz.se"

    def one(rng: random.Random, n: int) -> None:
        kind, raw = mutate_sie(rng)
        try:
            parse_sie(raw, file="fuzz.se")
        except SieParseError:
            pass
        except Exception as exc:
            fz.note("tracebacks", f"sie {kind}: parse_sie raised {exc!r}")
        file.write_bytes(raw)
        argv = ["sie", "check", str(file), *(["--json"] if rng.random() < 0.5 else [])]
        fz.check(run_cli(argv), (0, 1), f"{kind}: {' '.join(argv)}")

    return one


def money_path(fz: Fuzzer) -> Callable[[random.Random, int], None]:
    def one(rng: random.Random, n: int) -> None:
        kind, value = money_value(rng)
        try:
            amount = parse_amount(value, what="amount")
        except InputError as exc:
            if "\n" in str(exc) or len(str(exc)) > 400:
                fz.note("bad_messages", f"money {kind} {value!r}: {str(exc)[:100]}")
            return
        text = format_amount(amount)
        if not PLAIN.match(text) or parse_amount(text) != amount:
            fz.note("wrong_exit_codes", f"money {kind} {value!r} printed as {text!r}")

    return one


def main_() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 inputs per path")
    parser.add_argument("--size", type=int, default=None, help="inputs per path (10000)")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per input")
    calculators = sorted(REPOST_SAMPLES)
    every = ["cli", *(f"repost-{c}" for c in calculators), "repost-load", "bundle-import"]
    every += ["sie", "money"]
    parser.add_argument("--paths", nargs="+", choices=every, default=every)
    args = parser.parse_args()
    size = args.size or (100 if args.quick else 10_000)
    signal.signal(signal.SIGALRM, _alarm)
    totals: Counter[str] = Counter()
    inputs = 0
    with tempfile.TemporaryDirectory(prefix="syncstate-fuzz-") as tmp:
        for path in args.paths:
            folder = Path(tmp) / path
            folder.mkdir()
            fz = Fuzzer(folder, size, args.seed, args.timeout)
            if path == "cli":
                one = cli_path(fz)
            elif path == "repost-load":
                one = repost_load_path(fz)
            elif path.startswith("repost-"):
                one = repost_path(fz, path.removeprefix("repost-"))
            elif path == "bundle-import":
                one = bundle_path(fz)
            elif path == "sie":
                one = sie_path(fz)
            else:
                one = money_path(fz)
            count, seconds = fz.each(path, one)
            inputs += count
            totals.update(fz.problems)
            shown = ", ".join(f"{p.replace('_', ' ')} {fz.problems[p]}" for p in PROBLEMS)
            print(f"{path}: {count} inputs in {seconds:.0f} s; {shown}", flush=True)
            for problem, example in fz.examples.items():
                print(f"    first of {problem}: {example}", flush=True)
    summary = {
        "benchmark": "fuzz",
        "size": size,
        "targets": {
            problem: {"value": totals[problem], "target": 0, "better": "lower"}
            for problem in PROBLEMS
        },
        "inputs": inputs,
        "paths": list(args.paths),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main_()
