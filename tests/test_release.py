"""The student release (`python -m instructor release OUT_DIR`): what ships, what must not, and
that the released notebook works as a student first meets it."""
import json
import re

import nbformat
import pytest
import yaml

from lab_submissions import (NOTEBOOK_NAME, ROOT, released_folder, released_run, source_notebook,
                             with_region)  # first: it puts the project on sys.path
from instructor.lab import spec
from instructor.__main__ import main
from instructor.lab.cells import END_MARKER, START_MARKER, graded_cells, lab_metadata, split_region

SHIPPED = {NOTEBOOK_NAME, "public_tests.py", "autils.py", "lab_utils_softmax.py",
           "data/ex3data1.mat", "data/README.md", "images/network_diagram.svg",
           "requirements.txt", "README.md", "pytest.ini", "nbval_sanitize.cfg", "conftest.py",
           ".gitignore", ".github/workflows/grade.yml"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return released_folder(tmp_path_factory)


@pytest.fixture(scope="module")
def student(folder):
    return nbformat.read(folder / NOTEBOOK_NAME, as_version=4)


@pytest.fixture(scope="module")
def source():
    return source_notebook()


def _solution_lines(source):
    """Every line of every reference solution region, except blank and comment-only lines."""
    lines = set()
    for exercise, (_, cell) in graded_cells(source, "solution").items():
        for line in split_region(cell.source)[1]:
            if line.strip() and not line.strip().startswith("#"):
                lines.add(line.strip())
    return lines


def _all_strings(value):
    """Every key and string in a JSON document (JSON escapes quotes, so the raw text hides
    a line like Dense(25, activation="relu"))."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _all_strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _all_strings(item)


def test_release_ships_what_a_student_needs_and_nothing_else(folder):
    shipped = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}
    assert shipped == SHIPPED
    everything = "\n".join(p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file())
    for secret in ("hidden_checks", "SECRET_SEED", "instructor/", "grade-private"):
        assert secret not in everything, secret
    for name in ("public_tests.py", "autils.py", "lab_utils_softmax.py", "data/ex3data1.mat"):
        assert (folder / name).read_bytes() == (ROOT / name).read_bytes(), name


def test_student_notebook_contains_no_line_of_any_solution(folder, source):
    raw_text = (folder / NOTEBOOK_NAME).read_text()
    document = json.loads(raw_text)
    text = raw_text + "\n" + "\n".join(_all_strings(document))
    lines = _solution_lines(source)
    assert len(lines) >= 8
    for line in lines:  # anywhere: code, markdown (the hints describe, never show), metadata
        assert line not in text, f"solution line in the student notebook: {line}"
    markdown = lambda nb: [c.source for c in nb.cells if c.cell_type == "markdown"]  # noqa: E731
    assert markdown(nbformat.reads(raw_text, as_version=4)) == markdown(source)


def test_student_notebook_hides_nothing_and_stores_nothing(student):
    assert "widgets" not in student.metadata
    for index, cell in enumerate(student.cells):
        assert "placeholder" not in lab_metadata(cell), index
        assert "execution" not in cell.metadata, index
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, index
    for role in ("solution", "check"):
        assert set(graded_cells(student, role)) == set(spec.BY_ID)


def test_each_graded_region_is_exactly_its_placeholder(student, source):
    for exercise, (index, cell) in graded_cells(source, "solution").items():
        placeholder = lab_metadata(cell)["placeholder"]
        released = graded_cells(student, "solution")[exercise][1].source
        assert split_region(released)[1] == [placeholder], exercise
        assert released.count(START_MARKER) == released.count(END_MARKER) == 1


def test_filling_the_placeholders_gives_back_the_source_code_cells(student, source):
    completed = student
    for exercise, (_, cell) in graded_cells(source, "solution").items():
        completed = with_region(completed, exercise, split_region(cell.source)[1])
    assert len(completed.cells) == len(source.cells)
    for index, (mine, theirs) in enumerate(zip(completed.cells, source.cells)):
        assert (mine.cell_type, mine.source) == (theirs.cell_type, theirs.source), index


def test_released_pytest_configuration_checks_only_the_notebook(folder):
    ini = (folder / "pytest.ini").read_text()
    assert re.search(r"^testpaths = lab2_multiclass\.ipynb$", ini, re.MULTILINE)
    assert "tests" not in re.search(r"^testpaths.*$", ini, re.MULTILINE).group(0)
    assert "--nbval-sanitize-with=nbval_sanitize.cfg" in ini and "--nbval-current-env" in ini
    assert "regex:" in (folder / "nbval_sanitize.cfg").read_text()


def test_released_workflow_installs_and_runs_nbval_on_python_3_11(folder):
    workflow = yaml.safe_load((folder / ".github/workflows/grade.yml").read_text())
    steps = workflow["jobs"]["nbval"]["steps"]
    text = json.dumps(steps)
    assert any(s.get("with", {}).get("python-version") == "3.11" for s in steps)
    assert "python -m pip install -r requirements.txt" in text
    assert "python -m pytest --nbval lab2_multiclass.ipynb" in text


def test_released_workflow_and_conftest_are_written_from_the_lab_spec(folder):
    from instructor.exports.classroom import render_conftest, render_workflow
    assert (folder / ".github/workflows/grade.yml").read_text() == render_workflow()
    assert (folder / "conftest.py").read_text() == render_conftest()
    from instructor.lab.spec import EXERCISES
    conftest = (folder / "conftest.py").read_text()
    assert all(repr(item.title) in conftest for item in EXERCISES)


def test_student_readme_explains_hidden_checks_cell_numbers_and_cleared_outputs(folder):
    readme = (folder / "README.md").read_text()
    assert "exactly as the grader" not in readme  # the grader adds hidden checks
    assert "**hidden checks**" in readme and "The checks your teacher adds" in readme
    assert "`Cell 12` is the 13th code cell" in readme and "`[13]`" in readme
    clearing = readme[readme.index("Clear Outputs"):]
    assert "switches off" in clearing and "no longer compares" in clearing


def _release(capsys, *arguments):
    """`python -m instructor release ...`, in this process: (exit code, stderr)."""
    code = main(["release", *map(str, arguments)])
    return code, capsys.readouterr().err


def test_release_refuses_a_non_empty_folder_unless_forced(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    code, error = _release(capsys, tmp_path)
    assert code == 2 and "not empty" in error and "--force" in error
    assert not (tmp_path / NOTEBOOK_NAME).exists()
    code, error = _release(capsys, tmp_path, "--force")
    assert code == 0, error
    assert (tmp_path / NOTEBOOK_NAME).is_file() and (tmp_path / "notes.txt").read_text() == "mine"


def test_release_explains_bad_output_paths(tmp_path, capsys):
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    assert "is not a folder" in _release(capsys, a_file)[1]
    code, error = _release(capsys, ROOT)
    assert code == 2 and "instructor's project" in error


@pytest.fixture(scope="module")
def run_as_released(tmp_path_factory):
    """The student notebook, run top to bottom as released (errors kept, as a student sees)."""
    return released_run(tmp_path_factory)()


def _errors(cell):
    return [o for o in cell.get("outputs", []) if o["output_type"] == "error"]


@pytest.mark.acceptance  # a whole run of the released notebook
def test_released_notebook_runs_up_to_each_exercise(run_as_released, student):
    solutions, checks = graded_cells(student, "solution"), graded_cells(student, "check")
    first_exercise = solutions["exercise_1"][0]
    for index, cell in enumerate(run_as_released.cells[:first_exercise]):
        assert not _errors(cell), f"cell {index} fails before Exercise 1: {_errors(cell)}"
    # Between the first optional challenge and Exercise 2 nothing uses the student's softmax,
    # and only the second challenge's own check uses its answer.
    for index in range(checks["challenge_stable_softmax"][0] + 1, solutions["exercise_2"][0]):
        if index == checks["challenge_cross_entropy"][0]:
            continue
        assert not _errors(run_as_released.cells[index]), f"cell {index}: {_errors(run_as_released.cells[index])}"
    # Until Exercise 2's check, the only errors are the placeholder's, never a NameError.
    for index, cell in enumerate(run_as_released.cells[:checks["exercise_2"][0]]):
        for error in _errors(cell):
            assert error["ename"] in ("NotImplementedError", "AssertionError"), (index, error["ename"])


@pytest.mark.acceptance  # a whole run of the released notebook
@pytest.mark.parametrize("exercise, number", [("exercise_1", 1), ("exercise_2", 2)])
def test_each_check_says_the_exercise_is_not_implemented_yet(run_as_released, student, exercise, number):
    cell = run_as_released.cells[graded_cells(student, "check")[exercise][0]]
    [error] = _errors(cell)
    assert error["ename"] == "AssertionError"
    assert error["evalue"].startswith(f"Exercise {number} is not implemented yet")
    traceback = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(error["traceback"]))
    assert "During handling of the above exception" not in traceback
    assert traceback.count("public_tests.py") <= 1, traceback  # one frame: the raise itself


@pytest.mark.acceptance  # a whole run of the released notebook
@pytest.mark.parametrize("challenge", [item.id for item in spec.OPTIONAL])
def test_the_optional_challenge_checks_only_remind(run_as_released, student, challenge):
    cell = run_as_released.cells[graded_cells(student, "check")[challenge][0]]
    assert not _errors(cell)
    assert "not attempted" in "".join(o.get("text", "") for o in cell.outputs)
