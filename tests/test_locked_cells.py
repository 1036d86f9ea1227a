"""Locked cells in the student release (instructor/lock_cells.py): which cells, and the errors.

The browser test (tests/test_browser.py) proves that JupyterLab honours the keys; these tests
prove the release writes them on the right cells. Run with:
    python -m pytest -o addopts="" tests/test_locked_cells.py
"""
import copy
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from instructor.lab import spec  # noqa: E402
from instructor.lab.files import NOTEBOOK_NAME  # noqa: E402
from instructor.lab.cells import NotebookError, graded_cells, lab_metadata, read_notebook  # noqa: E402
from instructor.transforms.lock_cells import is_locked, lock_cells  # noqa: E402
from instructor.exports.release import make_student_notebook, write_release  # noqa: E402


@pytest.fixture(scope="module")
def source():
    return read_notebook(ROOT / NOTEBOOK_NAME)


@pytest.fixture(scope="module")
def student(source):
    return make_student_notebook(source)


def test_check_cells_are_locked_and_solution_cells_are_not(student):
    checks = graded_cells(student, "check")
    solutions = graded_cells(student, "solution")
    assert set(checks) == set(solutions) == {item.id for item in spec.EXERCISES}
    for exercise, (index, cell) in checks.items():
        assert cell.metadata["editable"] is False and cell.metadata["deletable"] is False, (
            f"the check cell of {exercise} (cell {index}) is not locked: {dict(cell.metadata)}")
    for exercise, (index, cell) in solutions.items():
        assert "editable" not in cell.metadata and "deletable" not in cell.metadata, (
            f"the solution cell of {exercise} (cell {index}) is locked: {dict(cell.metadata)}")


def test_markdown_setup_and_demo_cells_are_locked(student):
    solution_indices = {index for index, _ in graded_cells(student, "solution").values()}
    unlocked = [index for index, cell in enumerate(student.cells)
                if not is_locked(cell) and index not in solution_indices]
    assert not unlocked, f"cells left editable that the rule locks: {unlocked}"
    setup = [cell for cell in student.cells
             if cell.cell_type == "code" and "from public_tests import" in cell.source]
    assert len(setup) == 1 and is_locked(setup[0])
    markdown = [cell for cell in student.cells if cell.cell_type == "markdown"]
    assert markdown and all(is_locked(cell) for cell in markdown)


def test_source_notebook_is_left_unlocked(source, student):
    assert student is not source
    assert not any(is_locked(cell) for cell in source.cells), (
        "make_student_notebook changed the source notebook's metadata")


def test_opt_out_keeps_a_cell_editable(source):
    notebook = copy.deepcopy(source)
    scratch = nbformat.v4.new_code_cell("z = np.array([0.5, 1.5])",
                                        metadata={"lab": {"locked": False}})
    notebook.cells.insert(5, scratch)
    lock_cells(notebook)
    assert not is_locked(notebook.cells[5])
    assert is_locked(notebook.cells[4])


def test_a_solution_cell_marked_read_only_in_the_source_ships_editable(source):
    notebook = copy.deepcopy(source)
    index, cell = graded_cells(notebook, "solution")["exercise_1"]
    cell.metadata.update(editable=False, deletable=False)
    lock_cells(notebook)
    assert "editable" not in notebook.cells[index].metadata
    assert "deletable" not in notebook.cells[index].metadata


def test_a_solution_role_for_an_unknown_exercise_is_locked(source):
    notebook = copy.deepcopy(source)
    notebook.cells.insert(1, nbformat.v4.new_code_cell(
        "x = 1", metadata={"lab": {"exercise": "exercise_99", "role": "solution"}}))
    lock_cells(notebook)
    assert is_locked(notebook.cells[1])


@pytest.mark.parametrize("role", ["check", "solution"])
def test_a_lost_cell_metadata_is_a_clear_error(source, role):
    notebook = copy.deepcopy(source)
    index, cell = graded_cells(notebook, role)["exercise_2"]
    del cell.metadata["lab"]
    with pytest.raises(NotebookError) as raised:
        lock_cells(notebook)
    message = str(raised.value)
    assert "exercise_2" in message and f'"role": "{role}"' in message
    assert "restore" in message


def test_the_release_folder_ships_the_locks(tmp_path):
    write_release(tmp_path / "student")
    released = nbformat.read(tmp_path / "student" / NOTEBOOK_NAME, as_version=4)
    checks = graded_cells(released, "check")
    assert all(is_locked(cell) for _, cell in checks.values())
    assert not any(is_locked(cell) for _, cell in graded_cells(released, "solution").values())
    nbformat.validate(released)
    # Only the two lock keys were added: the grader still finds every graded cell by its metadata.
    for _, cell in checks.values():
        assert set(cell.metadata) == {"lab", "editable", "deletable"}
        assert lab_metadata(cell)["role"] == "check"
