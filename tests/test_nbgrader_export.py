"""The nbgrader export (python -m instructor export-nbgrader), checked with the real nbgrader.

The fast tests read the exported notebook: nbgrader's own metadata validator, the points from the
spec, the markers, the embedded hidden checks (run here on good and wrong softmaxes), the errors.
The slow test is a whole nbgrader round: ``nbgrader generate_assignment``, three submissions
made from nbgrader's release with tests/lab_submissions.py's helpers, ``nbgrader autograde``, and
the scores in nbgrader's gradebook compared with this project's grader on the same notebooks.
nbgrader runs each notebook itself (15-40 s each): three submissions, one module fixture.

    python -m pytest -o addopts="" tests/test_nbgrader_export.py
"""
import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

import lab_submissions as subs

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from instructor.exports import nbgrader_feedback, nbgrader_hidden  # noqa: E402
from instructor.grading import hidden_checks  # noqa: E402
from instructor.lab import spec  # noqa: E402
from instructor.lab.files import NOTEBOOK_NAME  # noqa: E402
from instructor.lab.cells import NotebookError, graded_cells, read_notebook, solution_regions  # noqa: E402
from instructor.transforms.lock_cells import stays_editable  # noqa: E402
from instructor.exports.nbgrader import (ASSIGNMENT, BEGIN_HIDDEN, BEGIN_SOLUTION, END_HIDDEN,  # noqa: E402
                                        END_SOLUTION, ExportError, hidden_region,
                                        make_nbgrader_notebook, FEEDBACK_MODULE)
from instructor.exports.release import leaked_solution_lines  # noqa: E402

nbgrader_api = pytest.importorskip(
    "nbgrader.api", reason="nbgrader is a developer dependency: python -m pip install -r "
                           "requirements-dev.txt")
from nbgrader.nbgraderformat import MetadataValidator  # noqa: E402


def reference_softmax(z):
    ez = np.exp(np.asarray(z, dtype=np.float64) - np.max(z))
    return ez / np.sum(ez)


@pytest.fixture(scope="module")
def source():
    return read_notebook(ROOT / NOTEBOOK_NAME)


SECRET = "ab" * 32  # the export's secret, fixed here so the hidden inputs can be recomputed


@pytest.fixture(scope="module")
def exported(source):
    return make_nbgrader_notebook(source, SECRET)


def nbgrader_cells(notebook):
    return {cell.metadata["nbgrader"]["grade_id"]: (index, cell)
            for index, cell in enumerate(notebook.cells) if "nbgrader" in cell.metadata}


# --- the notebook in nbgrader's format ---------------------------------------------------------

def test_nbgrader_accepts_the_metadata(exported):
    MetadataValidator().validate_nb(exported)  # raises nbgrader's ValidationError otherwise
    ids = [cell.metadata["nbgrader"]["grade_id"] for cell in exported.cells
           if "nbgrader" in cell.metadata]
    assert len(ids) == len(set(ids)), "grade_ids must be unique"


def test_graded_check_cells_carry_the_spec_points_and_the_optional_one_none(exported):
    cells = nbgrader_cells(exported)
    total = 0
    for exercise in spec.EXERCISES:
        _, check = cells[f"{exercise.id}_check"]
        meta = check.metadata["nbgrader"]
        assert meta["locked"] is True and meta["solution"] is False
        assert check.source.startswith(exercise.check_call)
        if exercise.optional:
            assert meta["grade"] is False and "points" not in meta
            assert BEGIN_HIDDEN not in check.source
        else:
            assert meta["grade"] is True and meta["points"] == exercise.points
            total += meta["points"]
        _, solution = cells[exercise.id]
        assert solution.metadata["nbgrader"]["solution"] is True
        assert solution.metadata["nbgrader"]["locked"] is False
    assert total == spec.MAX_SCORE


def test_solution_regions_sit_between_the_markers(exported, source):
    regions = solution_regions(source)
    for exercise, (_, cell) in graded_cells(exported, "solution").items():
        lines = cell.source.split("\n")
        begin = [i for i, line in enumerate(lines) if line.strip() == BEGIN_SOLUTION]
        end = [i for i, line in enumerate(lines) if line.strip() == END_SOLUTION]
        assert len(begin) == len(end) == 1, exercise
        assert lines[begin[0] + 1:end[0]] == regions[exercise]
        assert "START CODE HERE" in lines[begin[0] - 1] and "END CODE HERE" in lines[end[0] + 1]


def test_cells_the_release_locks_are_read_only_in_nbgrader(exported):
    for index, cell in enumerate(exported.cells):
        meta = cell.metadata.get("nbgrader")
        if stays_editable(cell):
            assert meta is not None and meta["solution"], index
        else:
            assert meta is not None and meta["locked"] is True, (index, cell.source[:60])
    assert not any(cell.outputs for cell in exported.cells if cell.cell_type == "code")


SOFTMAXES = {  # name: the student's my_softmax, as source
    "reference": "def my_softmax(z):\n    ez = np.exp(z - np.max(z))\n    return ez / np.sum(ez)\n",
    "divides_by_sum_of_z": "def my_softmax(z):\n    return np.exp(z) / np.sum(z)\n",
    # passes float inputs, but np.zeros_like copies the dtype of an integer input
    "integer_copy": ("def my_softmax(z):\n    out = np.zeros_like(z)\n"
                     "    out[:] = np.exp(z - np.max(z)) / np.sum(np.exp(z - np.max(z)))\n"
                     "    return out\n"),
}


@pytest.mark.parametrize("name", sorted(SOFTMAXES))
def test_embedded_hidden_checks_run_without_the_instructor_package(exported, tmp_path, name):
    """The hidden region of Exercise 1 runs as nbgrader runs it: in autograded/<student>/<lab>/,
    holding only the lab's public_tests.py, where the instructor package cannot be imported."""
    _, check = nbgrader_cells(exported)["exercise_1_check"]
    lines = check.source.split("\n")
    region = "\n".join(lines[lines.index(BEGIN_HIDDEN) + 1:lines.index(END_HIDDEN)])
    tmp_path = tmp_path / "autograded" / "alice" / "lab2_multiclass"
    tmp_path.mkdir(parents=True)
    shutil.copyfile(ROOT / "public_tests.py", tmp_path / "public_tests.py")
    script = tmp_path / "cell.py"
    script.write_text("import importlib.util\n"
                      "assert importlib.util.find_spec('instructor') is None\n"
                      "import numpy as np\n" + SOFTMAXES[name] + region + "\n")
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    run = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    # What the feedback cuts at. Both modules run outside the package, so each holds the marker.
    assert run.stdout.startswith(nbgrader_hidden.MARKER)
    assert nbgrader_feedback.MARKER == nbgrader_hidden.MARKER
    if name == "reference":
        assert run.returncode == 0, run.stderr[-3000:]
        assert "Exercise 1 (my_softmax): hidden checks passed" in run.stdout
    else:
        assert run.returncode == 1, run.stderr[-3000:]
        assert "AssertionError: Exercise 1 (my_softmax): the hidden checks failed" in run.stderr
        assert "hidden input" in run.stderr
        if name == "integer_copy":  # only the hidden integer input catches it
            assert "int64): your function returned whole numbers" in run.stderr


def test_bridge_reports_what_the_grader_reports(tmp_path, monkeypatch):
    def in_place(z):
        z -= np.max(z)
        return reference_softmax(z)

    (tmp_path / "alice" / "lab").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "alice" / "lab")
    assert nbgrader_hidden.student_id() == "alice"

    def failures(function):
        return nbgrader_hidden.function_failures(hidden_checks, "softmax", function, SECRET,
                                                 "exercise_1")

    seed = hidden_checks.seed_for(bytes.fromhex(SECRET), "alice", "exercise_1")
    assert failures(reference_softmax) == [] == hidden_checks.check_function(
        "softmax", reference_softmax, seed)
    assert failures(in_place) == hidden_checks.check_function("softmax", in_place, seed)
    assert failures(in_place) and all("changed its input" in f for f in failures(in_place))
    raising = failures(lambda z: 1 / 0)
    assert len(raising) == len(hidden_checks.softmax_inputs(seed))
    assert "raised ZeroDivisionError" in raising[0]
    with pytest.raises(AssertionError, match="- one\n- two"):
        nbgrader_hidden.assert_passes("Exercise 9", ["one", "two"])


def test_a_delimiter_in_the_text_is_refused(source):
    notebook = copy.deepcopy(source)
    notebook.cells[0].source += "\n\nWrite ### BEGIN SOLUTION here."
    with pytest.raises(ExportError, match=r"cell 0 contains nbgrader's delimiter"):
        make_nbgrader_notebook(notebook)


def test_a_lost_check_cell_is_a_clear_error(source):
    notebook = copy.deepcopy(source)
    _, cell = graded_cells(notebook, "check")["exercise_1"]
    del cell.metadata["lab"]
    with pytest.raises(NotebookError, match=r"cannot export to nbgrader: no check cell for exercise_1"):
        make_nbgrader_notebook(notebook)


def test_an_unknown_exercise_kind_is_a_clear_error():
    odd = spec.Exercise(id="exercise_9", title="Exercise 9", short="ex9", points=10,
                        check_function="test_x", check_call="test_x(x)", answer="x",
                        kind="essay")
    with pytest.raises(ExportError, match=r"no hidden test for kind 'essay'"):
        hidden_region(odd, SECRET)


# --- the command line ---------------------------------------------------------------------------

def export(out_dir, *options):
    """``python -m instructor export-nbgrader OUT_DIR OPTIONS``, run in this process (its
    command line is the same function): a CompletedProcess with its exit code and stderr."""
    import contextlib
    import io

    from instructor.__main__ import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["export-nbgrader", str(out_dir), *options])
    return subprocess.CompletedProcess(["export-nbgrader", str(out_dir)], code, out.getvalue(),
                                       err.getvalue())


def test_command_writes_the_course_and_refuses_a_non_empty_folder(tmp_path):
    first = export(tmp_path / "course")
    assert first.returncode == 0, first.stderr
    folder = tmp_path / "course" / "source" / ASSIGNMENT
    for name in ("lab2_multiclass.ipynb", "autils.py", "lab_utils_softmax.py", "public_tests.py",
                 "data/ex3data1.mat", "images/network_diagram.svg"):
        assert (folder / name).is_file(), name
    config = (tmp_path / "course" / "nbgrader_config.py").read_text()
    assert "c.Execute.timeout" in config and f"{FEEDBACK_MODULE}.StudentSafeFeedback" in config
    assert (tmp_path / "course" / f"{FEEDBACK_MODULE}.py").is_file()
    assert not (folder / f"{FEEDBACK_MODULE}.py").exists()  # released to no student
    assert not (folder / "instructor").exists() and not (folder / "hidden_checks.py").exists()
    again = export(tmp_path / "course")
    assert again.returncode == 2 and "not empty" in again.stderr and "--force" in again.stderr
    assert export(tmp_path / "course", "--force").returncode == 0


def test_command_refuses_the_project_folder():
    refused = export(ROOT)
    assert refused.returncode == 2
    assert "instructor's project" in refused.stderr and "somewhere else" in refused.stderr
    assert not (ROOT / "source").exists() and not (ROOT / "nbgrader_config.py").exists()


# --- a real nbgrader round ----------------------------------------------------------------------

# A right softmax that also prints every input it is given, keeps them for a later cell to print,
# and writes them to a file: what a student would do to learn the hidden inputs from feedback.
SPY = ['    print("my_softmax got", np.round(z, 5).tolist())',
       '    globals().setdefault("SEEN", []).append(np.round(z, 5).tolist())',
       '    open("seen.txt", "a").write(repr(np.round(z, 5).tolist()) + "\\n")',
       '    ez = np.exp(z)',
       '    a = ez / np.sum(ez)']
STUDENTS = {  # name: (what to change in the completed notebook, points expected per exercise)
    "alice": ({}, {item.id: item.points for item in spec.GRADED}),
    "mallory": ({"exercise_1": SPY}, {item.id: item.points for item in spec.GRADED}),
    "bob": ({"exercise_1": subs.WRONG_SOFTMAX},
            {item.id: 0 if item.id == "exercise_1" else item.points for item in spec.GRADED}),
    "carol": ({"exercise_2": subs.WRONG_MODEL,
               "challenge_stable_softmax": ["    a = np.exp(z) / np.sum(np.exp(z))  # overflows"]},
              {item.id: 0 if item.id == "exercise_2" else item.points for item in spec.GRADED}),
}


def nbgrader(course, *args):
    command = [sys.executable, "-m", "nbgrader", *args]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", TF_ENABLE_ONEDNN_OPTS="0", **subs.ONE_THREAD)
    env = {key: value for key, value in env.items() if not key.startswith("PYTEST_")}
    return subprocess.run(command, cwd=course, capture_output=True, text=True, env=env,
                          timeout=1800)


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory):
    """The course after generate_assignment and autograde, and our grader's report on the same
    submitted notebooks (run at the same time as nbgrader's autograde)."""
    course = tmp_path_factory.mktemp("nbgrader") / "course"
    assert export(course).returncode == 0
    generated = nbgrader(course, "generate_assignment", ASSIGNMENT)
    assert generated.returncode == 0, generated.stdout[-3000:] + generated.stderr[-3000:]
    release = course / "release" / ASSIGNMENT
    student = nbformat.read(release / NOTEBOOK_NAME, as_version=4)
    for name, (changes, _) in STUDENTS.items():
        notebook = subs.completed(student)
        for exercise, lines in changes.items():
            notebook = subs.with_region(notebook, exercise, lines)
        if name == "mallory":  # prints what the hidden checks passed, after they ran
            notebook = subs.insert_code_cell(
                notebook, subs.cell_index(notebook, "exercise_1", "check") + 1, "print(SEEN)")
        folder = course / "submitted" / name / ASSIGNMENT
        shutil.copytree(release, folder)
        nbformat.write(notebook, folder / NOTEBOOK_NAME)
    ours = subs.grade_in_background(
        [course / "submitted" / name / ASSIGNMENT for name in STUDENTS],
        course.parent / "our-grader-log", "--report-dir", course.parent / "our-report", "--jobs", "1")
    autograded = nbgrader(course, "autograde", ASSIGNMENT)
    ours_done = ours.result()
    assert autograded.returncode == 0, autograded.stdout[-3000:] + autograded.stderr[-3000:]
    report = json.loads((course.parent / "our-report" / "report.json").read_text())
    return course, release, report, ours_done


@pytest.mark.acceptance  # end to end: `python -m pytest -m acceptance`
def test_generated_release_hides_solutions_and_hidden_tests_and_locks_checks(graded_course, source):
    _, release, _, _ = graded_course
    student = nbformat.read(release / NOTEBOOK_NAME, as_version=4)
    assert leaked_solution_lines(source, student) == []
    text = nbformat.writes(student)
    secret = _export_secret(graded_course[0])
    for hidden in ("HIDDEN TESTS", secret, "function_failures", "BEGIN SOLUTION"):
        assert hidden not in text, hidden
    for exercise in spec.EXERCISES:
        _, check = graded_cells(student, "check")[exercise.id]
        assert check.source.strip() == exercise.check_call
        assert check.metadata["editable"] is False and check.metadata["deletable"] is False
        _, solution = graded_cells(student, "solution")[exercise.id]
        assert solution.metadata.get("editable", True) is True


@pytest.mark.acceptance  # end to end: `python -m pytest -m acceptance`
def test_autograde_scores_match_our_grader(graded_course):
    course, _, report, ours_done = graded_course
    # submitted/<student>/<assignment>/<notebook>: the student is the notebook's grandparent.
    ours = {Path(record["notebook"]).parents[1].name: record for record in report["submissions"]}
    assert set(ours) == set(STUDENTS), (sorted(ours), ours_done.stdout[-2000:])
    with nbgrader_api.Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for name, (_, expected) in STUDENTS.items():
            notebook = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, name)
            scores = {grade.name.removesuffix("_check"): grade.score for grade in notebook.grades
                      if grade.name.endswith("_check")}
            theirs_total = gradebook.find_submission(ASSIGNMENT, name).score
            our_points = {exercise: result["points"]
                          for exercise, result in ours[name]["exercises"].items()
                          if exercise in expected}
            print(f"[nbgrader] {name}: nbgrader {scores} = {theirs_total}; ours {our_points} = "
                  f"{ours[name]['score']} ({ours[name]['status']})")
            assert scores == expected, (name, scores)
            assert our_points == expected, (name, ours[name]["exercises"])
            assert theirs_total == ours[name]["score"] == sum(expected.values())


@pytest.mark.acceptance  # end to end: `python -m pytest -m acceptance`
def test_autograded_notebook_shows_the_public_check_message(graded_course):
    course, _, _, _ = graded_course
    bob = nbformat.read(course / "autograded" / "bob" / ASSIGNMENT / NOTEBOOK_NAME, as_version=4)
    _, check = graded_cells(bob, "check")["exercise_1"]
    errors = [output for output in check.outputs if output.output_type == "error"]
    assert errors and errors[0].ename == "AssertionError"
    assert "test_my_softmax failed" in errors[0].evalue
    assert BEGIN_HIDDEN in check.source  # nbgrader put the hidden tests back to grade
    # carol's optional challenge overflows: its check says so, and Run All went on.
    carol = nbformat.read(course / "autograded" / "carol" / ASSIGNMENT / NOTEBOOK_NAME, as_version=4)
    _, challenge = graded_cells(carol, "check")["challenge_stable_softmax"]
    assert "test_my_softmax_stable failed" in "".join(
        output.get("text", "") + output.get("evalue", "") for output in challenge.outputs)
    _, model_check = graded_cells(carol, "check")["exercise_2"]
    assert model_check.execution_count is not None


def _export_secret(course):
    """The secret the export drew, read from the instructor's copy of the notebook."""
    import re
    text = (course / "source" / ASSIGNMENT / NOTEBOOK_NAME).read_text()
    [secret] = set(re.findall(r"'([0-9a-f]{64})'", text))
    return secret


@pytest.fixture(scope="module")
def feedback(graded_course):
    course = graded_course[0]
    made = nbgrader(course, "generate_feedback", ASSIGNMENT)
    assert made.returncode == 0, made.stdout[-3000:] + made.stderr[-3000:]
    return course


@pytest.mark.acceptance  # end to end: `python -m pytest -m acceptance`
def test_feedback_shows_the_public_checks_and_never_the_hidden_tests(feedback):
    course = feedback
    secret = _export_secret(course)
    autograded = (course / "autograded" / "mallory" / ASSIGNMENT / NOTEBOOK_NAME).read_text()
    seed = hidden_checks.seed_for(bytes.fromhex(secret), "mallory", "exercise_1")
    hidden = [str(np.round(z, 5).tolist())[1:40] for z in hidden_checks.softmax_inputs(seed)
              if z.dtype.kind == "f" and z.size >= 2 and np.ptp(z) > 0]
    # What the spy printed reached the autograded notebook: the test below would mean nothing
    # otherwise.
    assert hidden and all(text in autograded for text in hidden)
    for name in STUDENTS:
        folder = course / "feedback" / name / ASSIGNMENT
        page = (folder / f"{ASSIGNMENT}.html").read_text()
        for leak in (secret, "_lab_hidden_checks", "HIDDEN TESTS", "def check_softmax",
                     "hidden input", nbgrader_hidden.MARKER):
            assert leak not in page, (name, leak)
        assert "test_my_softmax" in page  # the public check's own message is shown
        assert "Hidden tests: passed" in page or "Hidden tests: failed" in page
        assert {p.name for p in folder.rglob("*") if p.is_file() and p.suffix != ".html"} \
            <= {p.name for p in (course / "source" / ASSIGNMENT).rglob("*") if p.is_file()}
    page = (course / "feedback" / "mallory" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert not [text for text in hidden if text in page]
    assert not (course / "feedback" / "mallory" / ASSIGNMENT / "seen.txt").exists()
    assert "Output not shown in feedback" in page  # the cell that printed SEEN
    bob = (course / "feedback" / "bob" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "test_my_softmax failed" in bob and "Hidden tests: failed" in bob
