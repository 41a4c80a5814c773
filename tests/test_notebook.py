"""examples/notebook.ipynb runs in a fresh kernel and shows what it is committed showing.

The notebook is committed with its outputs, so a reader sees the tables on
GitHub without running anything. These tests run it again, top to bottom, and
compare every output with the committed one (timings aside); when a change to
syncstate changes what the notebook shows, refresh the outputs with

    .venv/bin/python tests/test_notebook.py --refresh

and commit the notebook. The refresh is deterministic: a fixed clock, one
export worker, no timings in the metadata.
"""

from __future__ import annotations

import copy
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

nbclient = pytest.importorskip("nbclient", reason="install the test group: nbclient")
nbformat = pytest.importorskip("nbformat", reason="install the test group: nbformat")

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "notebook.ipynb"
KERNEL = "syncstate-test-python"
REFRESH = ".venv/bin/python tests/test_notebook.py --refresh"
#: what the committed notebook's metadata says, whatever kernel ran it
METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


def _kernel_spec(folder: Path) -> None:
    """A kernel spec running *this* interpreter, whatever kernels the machine has."""
    spec = folder / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "syncstate tests", "language": "python"})
    )


def execute(folder: Path) -> Any:
    """The notebook run top to bottom in a fresh kernel, working in ``folder``."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        kernel_name=KERNEL,
        timeout=60,
        record_timing=False,
        resources={"metadata": {"path": str(folder)}},
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on any error
    notebook.metadata = copy.deepcopy(METADATA)
    return notebook


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    folder = tmp_path_factory.mktemp("notebook")
    _kernel_spec(folder)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", str(folder / "jupyter"))
        patch.setenv("TMPDIR", str(folder))
        return execute(folder), folder


def _shown(output: dict[str, Any]) -> dict[str, str]:
    """What one output shows, per MIME type, without what changes from run to run."""
    if output.get("output_type") == "stream":
        data = {output["name"]: output["text"]}
    else:
        data = {k: v if isinstance(v, str) else json.dumps(v) for k, v in output["data"].items()}
    shown = {}
    for mime, text in data.items():
        text = "".join(text) if isinstance(text, list) else text
        text = re.sub(r"(duration\D{0,12}?)\d+(\.\d+)?", r"\1N", text)  # how long the export took
        text = re.sub(r"<style scoped>.*?</style>", "", text, flags=re.S)  # pandas' CSS
        shown[mime] = text.strip()
    return shown


def _outputs(notebook: Any) -> list[list[dict[str, str]]]:
    code = [c for c in notebook.cells if c.cell_type == "code"]
    return [[_shown(o) for o in c.get("outputs", [])] for c in code]


def test_the_notebook_runs_without_errors_and_cleans_up(executed: tuple[Any, Path]) -> None:
    notebook, folder = executed
    code = [c for c in notebook.cells if c.cell_type == "code"]
    errors = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
    assert not list(folder.glob("tmp*")), "the notebook left temporary files behind"


def test_every_result_shows_as_a_table(executed: tuple[Any, Path]) -> None:
    shown = "\n".join(o.get("text/html", "") for cell in _outputs(executed[0]) for o in cell)
    assert shown.count('<table class="syncstate">') >= 5, "summary, results, plan, findings, plan"
    assert shown.count('class="dataframe"') >= 2
    assert "closed period" in shown  # the failed record, with its message
    assert "NOT removed" in shown  # the reset plan carries its warning
    assert "AR-OUTSTANDING" in shown  # the findings
    assert "receivables repost of document INV-1" in shown  # what the drill-down would change
    text = "\n".join(o.get("stdout", "") for cell in _outputs(executed[0]) for o in cell)
    assert "ExportReport(company='acme-builders', backend='memory', selected=30" in text


def test_the_committed_outputs_are_what_the_notebook_shows(executed: tuple[Any, Path]) -> None:
    committed = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(committed)
    now, then = _outputs(executed[0]), _outputs(committed)
    assert len(now) == len(then)
    for number, (fresh, stored) in enumerate(zip(now, then, strict=True)):
        assert fresh == stored, f"code cell {number} shows something else now; run {REFRESH}"


def test_the_committed_notebook_holds_no_local_paths_or_timings() -> None:
    text = NOTEBOOK.read_text(encoding="utf-8")
    committed = nbformat.read(NOTEBOOK, as_version=4)
    assert committed.metadata == METADATA
    assert all("execution" not in c.metadata for c in committed.cells)
    assert "/tmp" not in text and "/home/" not in text and "0x7f" not in text
    code = [c for c in committed.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))


def refresh() -> None:
    """Run the notebook and write it back with its outputs."""
    import os

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _kernel_spec(folder)
        os.environ["JUPYTER_PATH"] = str(folder / "jupyter")
        notebook = execute(folder)
    nbformat.write(notebook, NOTEBOOK)
    print(f"refreshed {NOTEBOOK}")


if __name__ == "__main__":
    if sys.argv[1:] != ["--refresh"]:
        sys.exit(f"usage: {REFRESH}")
    refresh()
