"""Grading in CI: `python -m pytest --nbval lab2_multiclass.ipynb` in a released folder, and the
released GitHub Classroom workflow's commands, which give each exercise its points.

An honest student's notebook, completed and executed (outputs stored), passes nbval out of the
box with the released pytest.ini, nbval_sanitize.cfg and conftest.py; a wrong answer fails, and
the summary names the exercise. Each run starts TensorFlow and trains (15-40 s), so there are
only three, the workflow's gate in three folders, started together once per session
(lab_submissions.nbval_runs), in the acceptance tier; the Classroom tests of the exercises then
read what their gate wrote. The masks' own tests need no run.
"""
import subprocess

import nbformat
import pytest

from lab_submissions import NOTEBOOK_NAME, classroom_tests, nbval_runs
from instructor.lab import spec
from instructor.lab.cells import graded_cells



def code_cell_number(folder, exercise, role="check"):
    """nbval's number for a graded cell: its index among the code cells, from 0."""
    notebook = nbformat.read(folder / NOTEBOOK_NAME, as_version=4)
    index = graded_cells(notebook, role)[exercise][0]
    return sum(cell.cell_type == "code" for cell in notebook.cells[:index])


@pytest.mark.acceptance  # three whole nbval runs of the released notebook
def test_completed_and_executed_notebook_passes_nbval_out_of_the_box(tmp_path_factory):
    result = nbval_runs(tmp_path_factory)["honest"].result()
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout
    assert "Exercise 1 (my_softmax): passed" in result.stdout
    assert "Exercise 2 (model): passed" in result.stdout


@pytest.mark.acceptance  # three whole nbval runs of the released notebook
def test_the_checked_notebook_had_its_outputs_stored(tmp_path_factory):
    import nbformat
    folder = nbval_runs(tmp_path_factory)["folders"]["honest"]
    notebook = nbformat.read(folder / "lab2_multiclass.ipynb", as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    assert sum(len(c.outputs) for c in code) >= len(code) // 2  # nbval compares these


@pytest.mark.acceptance  # three whole nbval runs of the released notebook
def test_a_wrong_answer_fails_and_names_its_exercise(tmp_path_factory):
    result = nbval_runs(tmp_path_factory)["partly wrong"].result()
    assert result.returncode == 1, result.stdout[-4000:] + result.stderr[-2000:]
    assert "test_my_softmax failed" in result.stdout
    # nbval's "Cell N" counts code cells from 0: the summary names the exercise and that cell.
    check = code_cell_number(nbval_runs(tmp_path_factory)["folders"]["partly wrong"],
                             "exercise_1")
    assert (f"Exercise 1 (my_softmax): FAILED in its check cell (nbval Cell {check}, shown as "
            f"[{check + 1}] after Run All): AssertionError") in result.stdout
    assert f"Cell {check} is Exercise 1 (my_softmax), check cell" in result.stdout


@pytest.mark.parametrize("stored, fresh", [
    ("<keras.src.models.sequential.Sequential object at 0x7f3a2c1d9e50>",
     "<keras.src.models.sequential.Sequential object at 0x7f00aa11bb22>"),
    ("157/157 ━━━━━━━━━━━━━━━━━━━━ 1s 3ms/step - loss: 0.1234",
     "157/157 ━━━━━━━━━━━━━━━━━━━━ 0s 2ms/step - loss: 0.1234"),
    ("157/157 - 0s - 2ms/step - loss: 0.1234", "157/157 - 1s - 5ms/step - loss: 0.1234"),
    ("Wall time: 1.23 s", "Wall time: 880 ms"),
])
def test_sanitize_masks_what_varies_between_runs(stored, fresh):
    from instructor.findings.outputs import load_patterns, sanitize
    patterns = load_patterns()
    assert sanitize(stored, patterns) == sanitize(fresh, patterns)


@pytest.mark.parametrize("stored, fresh", [
    ("loss after epoch 1: 1.6019, after epoch 40: 0.0279",
     "loss after epoch 1: 1.6019, after epoch 40: 0.0280"),
    ("17 errors out of 5000 images", "18 errors out of 5000 images"),
    ("accuracy on the test images:     92.3%", "accuracy on the test images:     92.4%"),
    ("X shape: (5000, 400)", "X shape: (5000, 401)"),
    ("<Figure size 550x266.25 with 24 Axes>", "<Figure size 550x300 with 24 Axes>"),
    ("[[0.001 0.002 0.99  0.001]]", "[[0.001 0.002 0.98  0.001]]"),
    ("157/157 ━━━━━━━━━━━━━━━━━━━━ 1s 3ms/step - loss: 0.1234",
     "157/157 ━━━━━━━━━━━━━━━━━━━━ 1s 3ms/step - loss: 0.1235"),
])
def test_sanitize_keeps_the_numbers_that_matter(stored, fresh):
    from instructor.findings.outputs import load_patterns, sanitize
    patterns = load_patterns()
    assert sanitize(stored, patterns) != sanitize(fresh, patterns)


@pytest.mark.parametrize("text, masked", [
    ("/home/ann/.venv/lib/python3.11/site-packages/keras/src/x.py:12: UserWarning",
     "SITE_PACKAGES/keras/src/x.py:12: UserWarning"),
    ('File "C:\\venv\\Lib\\site-packages\\numpy\\core.py"', 'File "SITE_PACKAGES/numpy\\core.py"'),
    ("see '/opt/py/site-packages/keras'", "see 'SITE_PACKAGES/keras'"),
    ("a/b/site-packages/c", "SITE_PACKAGES/c"),
])
def test_the_site_packages_mask_takes_the_whole_path_and_only_it(text, masked):
    """The mask starts a path only where a token starts (after a space or a quote), which also
    keeps it linear on a long line without spaces (benchmarks/bench_sanitize.py)."""
    from instructor.findings.outputs import load_patterns, sanitize
    assert sanitize(text, load_patterns()) == masked


def test_instructor_sanitize_reads_the_file_as_nbval_does():
    from nbval.plugin import get_sanitize_patterns
    from instructor.lab.files import SANITIZE_FILE
    from instructor.findings.outputs import load_patterns
    assert load_patterns() == get_sanitize_patterns(SANITIZE_FILE.read_text())


@pytest.fixture(scope="module")
def classroom_runs(tmp_path_factory):
    """The workflow's tests in the released folders of nbval_runs: {"tests": [(name, command,
    points)], "runs": {notebook: {test name: (passed, output)}}}. The gates are nbval_runs'; the
    exercises' tests read what their gate wrote."""
    gates = nbval_runs(tmp_path_factory)
    tests = classroom_tests(gates["folders"]["honest"])
    gate_name = tests[0][0]
    runs = {}
    for name, folder in gates["folders"].items():
        finished = gates[name].result()
        runs[name] = {gate_name: (finished.returncode == 0, finished.stdout + finished.stderr)}
        for test_name, command, _ in tests[1:]:
            result = subprocess.run(["bash", "-c", command], cwd=folder, capture_output=True,
                                    text=True, timeout=120)
            runs[name][test_name] = (result.returncode == 0, result.stdout + result.stderr)
    return {"tests": tests, "runs": runs}


def _points(classroom_runs, name):
    return sum(points for test_name, _, points in classroom_runs["tests"]
               if classroom_runs["runs"][name][test_name][0])


@pytest.mark.acceptance  # three whole nbval runs of the released notebook
def test_classroom_points_per_exercise(classroom_runs):
    ex1, ex2 = spec.exercise("exercise_1"), spec.exercise("exercise_2")
    runs = classroom_runs["runs"]
    assert _points(classroom_runs, "honest") == spec.MAX_SCORE, runs["honest"]
    assert _points(classroom_runs, "partly wrong") == ex2.points, runs["partly wrong"]
    assert _points(classroom_runs, "wrong") == 0, runs["wrong"]
    assert runs["partly wrong"][ex2.title][0] and not runs["partly wrong"][ex1.title][0]
    assert "test_my_softmax failed" in runs["partly wrong"][ex1.title][1] or \
        "AssertionError" in runs["partly wrong"][ex1.title][1]


@pytest.mark.acceptance  # three whole nbval runs of the released notebook
def test_classroom_gate_passes_only_the_honest_notebook(classroom_runs):
    gate = classroom_runs["tests"][0][0]
    runs = classroom_runs["runs"]
    passed, output = runs["honest"][gate]
    assert passed, output[-4000:]
    assert "Exercise 1 (my_softmax): passed" in output and "Exercise 2 (model): passed" in output
    for name in ("partly wrong", "wrong"):
        assert not runs[name][gate][0]
    assert "Exercise 2 (model): FAILED in its check cell" in runs["wrong"][gate][1]
