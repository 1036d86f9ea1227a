"""tools/expected_values.py: the notebook's "Expected output" lines quote its own stored outputs."""
import copy
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import expected_values  # noqa: E402
from expected_values import EXPECTED, ExpectedValuesError, out_of_date, updated_sources  # noqa: E402


@pytest.fixture(scope="module")
def source():
    return nbformat.read(ROOT / "lab2_multiclass.ipynb", as_version=4)


def marked_cells(notebook):
    return [i for i, c in enumerate(notebook.cells)
            if c.cell_type == "markdown" and expected_values.MARKER.search(c.source)]


def next_code_cell(notebook, index):
    return next(c for c in notebook.cells[index + 1:] if c.cell_type == "code")


def test_the_notebook_is_in_sync_with_its_stored_outputs(source):
    assert out_of_date(source) == [], "run: python tools/expected_values.py"


def test_every_key_is_used_once_and_quotes_the_stored_line(source):
    cells = marked_cells(source)
    keys = [expected_values.MARKER.search(source.cells[i].source).group(1) for i in cells]
    assert sorted(keys) == sorted(EXPECTED)
    final_loss = next(i for i, key in zip(cells, keys) if key == "final_loss")
    printed = expected_values.stdout_lines(next_code_cell(source, final_loss))[-1]
    assert printed.startswith("epoch 40: loss ")
    assert f"**Expected output:** `{printed}`" in source.cells[final_loss].source


def test_a_changed_output_makes_the_line_out_of_date_and_the_tool_rewrites_it(source, tmp_path):
    notebook = copy.deepcopy(source)
    index = next(i for i in marked_cells(notebook) if "training_errors" in notebook.cells[i].source)
    code = next_code_cell(notebook, index)
    stored = int(re.search(r"(\d+) errors out of", "".join(o.get("text", "") for o in code.outputs)).group(1))
    for output in code.outputs:
        if output.get("name") == "stdout":
            output["text"] = output["text"].replace(f"{stored} errors", f"{stored + 1} errors")
    assert out_of_date(notebook) == [index]
    path = tmp_path / "lab.ipynb"
    nbformat.write(notebook, path)
    check = subprocess.run([sys.executable, str(ROOT / "tools" / "expected_values.py"), str(path),
                            "--check"], capture_output=True, text=True)
    assert check.returncode == 1 and f"markdown cells [{index}]" in check.stderr
    subprocess.run([sys.executable, str(ROOT / "tools" / "expected_values.py"), str(path)], check=True,
                   capture_output=True)
    rewritten = nbformat.read(path, as_version=4)
    assert f"`{stored + 1} errors out of 5000 images`" in rewritten.cells[index].source
    assert out_of_date(rewritten) == []


def test_missing_outputs_say_to_store_them_first(source):
    notebook = copy.deepcopy(source)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    with pytest.raises(ExpectedValuesError, match=r"no stored stdout line matching .*tools/refresh_outputs.py"):
        updated_sources(notebook)


def test_an_unknown_marker_is_named(source):
    notebook = copy.deepcopy(source)
    index = marked_cells(notebook)[0]
    notebook.cells[index].source += "\n<!-- expected: final_los -->"
    with pytest.raises(ExpectedValuesError, match=r"'expected: final_los' names no known value; expected one of"):
        updated_sources(notebook)


def test_the_student_release_keeps_the_expected_lines(source):
    from instructor.exports.release import make_student_notebook

    student = make_student_notebook(copy.deepcopy(source))
    markdown = "\n".join(c.source for c in student.cells if c.cell_type == "markdown")
    for index in marked_cells(source):
        expected_line = next(line for line in source.cells[index].source.splitlines()
                             if expected_values.MARKER.search(line))
        assert expected_line in markdown
