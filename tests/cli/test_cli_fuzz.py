"""Fuzzed command lines: every command, options drawn from its own parser, hostile values.

Whatever the arguments, a command exits 0, 1 or 2, never prints a traceback, and when it
fails says so in one line (or one JSON object with ``--json``) on stderr. The database it
is pointed at is a real syncstate database or a hostile file.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncstate import SQLiteStore, TimeEntry
from syncstate.cli import COMMANDS, build_parser, main
from syncstate.testing.fuzz import CLI_VALUES, command_options

#: commands left out: the demo runs a whole tour and serve starts a web server
SKIP = {"demo", "serve"}


COMMAND_OPTIONS = {
    path: opts
    for path, opts in command_options(build_parser()).items()
    if path[0] in COMMANDS and path[0] not in SKIP
}

values = st.one_of(st.sampled_from(CLI_VALUES), st.text(max_size=12))


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz")
    with SQLiteStore(folder / "ours.db") as store:
        store.ingest(
            "acme",
            [
                TimeEntry(source_id=f"t{i}", employee="ann", date=dt.date(2026, 3, 2), hours="1")
                .to_record("acme")
                for i in range(5)
            ],
            at=dt.datetime(2026, 3, 2, tzinfo=dt.UTC),
            actor="test",
        )  # fmt: skip
    (folder / "garbage.db").write_bytes(os.urandom(3000))
    (folder / "text.json").write_text('{"documents": [}', encoding="utf-8")
    return folder


#: examples per run; the full form (documented in docs/cli.md) sets 10000
EXAMPLES = int(os.environ.get("SYNCSTATE_FUZZ_EXAMPLES", "400"))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_command_line_gives_a_traceback_or_a_wrong_exit_code(
    data: st.DataObject, workspace: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.chdir(workspace)
    path = data.draw(st.sampled_from(sorted(COMMAND_OPTIONS)))
    options = COMMAND_OPTIONS[path]
    argv: list[str] = list(path)
    files = ["ours.db", "garbage.db", "missing.db", "text.json", str(workspace)]
    for _ in range(data.draw(st.integers(0, 6))):
        option = data.draw(st.sampled_from([*options, "--bogus"])) if options else "--bogus"
        argv.append(option)
        if data.draw(st.booleans()):
            argv.append(data.draw(st.one_of(values, st.sampled_from(files))))
    if data.draw(st.booleans()) and "--db" in options:
        argv += ["--db", data.draw(st.sampled_from(files))]
    as_json = data.draw(st.booleans()) and "--json" in options
    if as_json:
        argv.append("--json")
    capsys.readouterr()
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse's --help/--version paths
        status = exc.code if isinstance(exc.code, int) else 2
    out, err = capsys.readouterr()
    assert status in (0, 1, 2), (argv, status, err)
    assert "Traceback" not in out + err, (argv, err)
    if status and err.strip():
        last = err.strip().splitlines()[-1]
        if "--json" in argv and not last.startswith("usage:"):
            assert isinstance(json.loads(last), dict), (argv, err)
        else:
            assert last.startswith(("syncstate", "usage:")) or ": error:" in last, (argv, err)
