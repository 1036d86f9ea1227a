"""Grading in CI: `python -m pytest --nbval lab2_multiclass.ipynb` in a released folder.

An honest student's notebook, completed and executed (outputs stored), passes nbval out of the
box with the released pytest.ini, nbval_sanitize.cfg and conftest.py; a wrong answer fails, and
the summary names the exercise. Each run starts TensorFlow and trains (15-40 s), so there are
only two, started once per session (lab_submissions.nbval_runs; test_grading starts them early
so that they overlap the grader's runs), and the wrong one stops at its first failure (-x).
"""
import pytest

from lab_submissions import nbval_runs


def test_completed_and_executed_notebook_passes_nbval_out_of_the_box(tmp_path_factory):
    result = nbval_runs(tmp_path_factory)["honest"].result()
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout
    assert "Exercise 1 (my_softmax): passed" in result.stdout
    assert "Exercise 2 (model): passed" in result.stdout


def test_the_checked_notebook_had_its_outputs_stored(tmp_path_factory):
    import nbformat
    folder = nbval_runs(tmp_path_factory)["folders"]["honest"]
    notebook = nbformat.read(folder / "lab2_multiclass.ipynb", as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    assert sum(len(c.outputs) for c in code) >= len(code) // 2  # nbval compares these


def test_a_wrong_answer_fails_and_names_its_exercise(tmp_path_factory):
    result = nbval_runs(tmp_path_factory)["wrong"].result()
    assert result.returncode == 1, result.stdout[-4000:] + result.stderr[-2000:]
    assert "test_my_softmax failed" in result.stdout
    assert "Exercise 1 (my_softmax): FAILED in its check cell: AssertionError" in result.stdout


@pytest.mark.parametrize("stored, fresh", [
    ("<keras.src.models.sequential.Sequential object at 0x7f3a2c1d9e50>",
     "<keras.src.models.sequential.Sequential object at 0x7f00aa11bb22>"),
    ("157/157 ━━━━━━━━━━━━━━━━━━━━ 1s 3ms/step - loss: 0.1234",
     "157/157 ━━━━━━━━━━━━━━━━━━━━ 0s 2ms/step - loss: 0.1234"),
    ("157/157 - 0s - 2ms/step - loss: 0.1234", "157/157 - 1s - 5ms/step - loss: 0.1234"),
    ("Wall time: 1.23 s", "Wall time: 880 ms"),
])
def test_sanitize_masks_what_varies_between_runs(stored, fresh):
    from instructor.sanitize import load_patterns, sanitize
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
    from instructor.sanitize import load_patterns, sanitize
    patterns = load_patterns()
    assert sanitize(stored, patterns) != sanitize(fresh, patterns)


def test_instructor_sanitize_reads_the_file_as_nbval_does():
    from nbval.plugin import get_sanitize_patterns
    from instructor import SANITIZE_FILE
    from instructor.sanitize import load_patterns
    assert load_patterns() == get_sanitize_patterns(SANITIZE_FILE.read_text())
