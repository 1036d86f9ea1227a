"""The instructor grader (`python -m instructor grade`): fair marks, tampering caught, and one bad
submission never costing the others.

Submissions are made from the release: completed with the reference solutions, then edited with
nbformat. Each notebook run costs 15-40 s, so the cases share three grader runs, started at once
and collected together (see lab_submissions): the submissions without stored outputs (one at a
time, at low priority, while the session's honest notebook is being executed), the runaway one
(alone, with a short cell timeout), then the honest and the tampered ones, which carry that
notebook's stored outputs, two at a time (--jobs 2: the parallel path). The wrong-softmax,
wrong-model and tampered ones stop after Exercise 2's check: what they test does not depend on
the trainings.
"""
import copy
import json
import re

import nbformat
import pytest

from lab_submissions import (NOTEBOOK_NAME, WRONG_MODEL, WRONG_SOFTMAX, cell_index, completed,
                             executed_solution, grade_in_background, insert_code_cell, nbval_runs,
                             released_folder, released_run, submission_folder,
                             with_region)  # first: it puts the project on sys.path
from instructor import static_scan
from instructor.__main__ import main
from instructor.submissions import SubmissionPathError, find_submissions

CELL_TIMEOUT = 60  # seconds: far above the slowest honest cell (training, 3-10 s), even under load
LOOP_TIMEOUT = 5  # for the runaway submission, whose loop comes before any slow cell
MEMORY_LIMIT = 2000  # MB: an honest kernel peaks at about 900 MB


def _grade(capsys, *arguments):
    """`python -m instructor grade ...`, in this process: (exit code, stderr)."""
    code = main(["grade", *map(str, arguments)])
    return code, capsys.readouterr().err


def _tampered(honest):
    """The executed honest notebook, shortened and tampered with in every way the grader must
    catch. It stops after Exercise 2's check: the trainings and figures after it cost 20 s and
    play no part in detecting tampering (the untrained model fails a hidden check instead)."""
    notebook = copy.deepcopy(honest)
    notebook.cells = notebook.cells[:cell_index(notebook, "exercise_2", "check") + 1]
    notebook = insert_code_cell(notebook, 4, "np.allclose = lambda *a, **k: True  # everything is close")
    del notebook.cells[cell_index(notebook, "exercise_1", "check")]
    notebook.cells[cell_index(notebook, "exercise_2", "check")].source = \
        'print("test_model: All tests passed!")'
    notebook = insert_code_cell(notebook, len(notebook.cells),
                                "def test_my_softmax(target):\n    print('All tests passed!')")
    [output] = [o for c in notebook.cells for o in c.get("outputs", [])
                if "X shape: (5000, 400)" in o.get("text", "")]
    output["text"] = output["text"].replace("(5000, 400)", "(5000, 401)")
    return notebook


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade all the submissions; returns ({batch: process result}, {name: record}, report dirs)."""
    release = released_folder(tmp_path_factory)
    released_run(tmp_path_factory)  # test_release's run of the student notebook, in the background
    solved = completed(nbformat.read(release / NOTEBOOK_NAME, as_version=4))
    root = tmp_path_factory.mktemp("grading")
    # One thread per kernel: up to four kernels share the two cores during this fixture.
    options = ["--memory-limit", MEMORY_LIMIT, "--kernel-threads", 1]

    unexecuted = root / "unexecuted"
    unexecuted.mkdir()
    wrong_softmax = with_region(solved, "exercise_1", WRONG_SOFTMAX)
    wrong_softmax = insert_code_cell(wrong_softmax, cell_index(wrong_softmax, "exercise_2", "solution"),
                                     "raise ValueError('an error in an ungraded cell')")
    # Shortened after Exercise 2's check: its wrong softmax and its error come before it.
    wrong_softmax.cells = wrong_softmax.cells[:cell_index(wrong_softmax, "exercise_2", "check") + 1]
    nbformat.write(wrong_softmax, unexecuted / "wrong_softmax.ipynb")  # a loose notebook
    # Shortened after Exercise 2's check: the public check rejects its softmax output layer
    # whether or not it is trained, so the two trainings (20 s) would prove nothing more.
    wrong_model = with_region(solved, "exercise_2", WRONG_MODEL)
    wrong_model.cells = wrong_model.cells[:cell_index(wrong_model, "exercise_2", "check") + 1]
    submission_folder(unexecuted, "wrong_model", release, wrong_model)
    (unexecuted / "broken.ipynb").write_text('{"cells": [')
    # Before the imports: the loop, then an allocation past the memory limit.
    imports = next(i for i, c in enumerate(solved.cells) if c.cell_type == "code")
    runaway = insert_code_cell(solved, imports, "while True:\n    pass")
    # One allocation past the limit, a single C call that an interrupt cannot stop, then a
    # loop: the watchdog kills it whether or not the cell timed out first (a loaded machine
    # fills memory slowly), so the machine's speed cannot turn "killed" into "timeout".
    runaway = insert_code_cell(runaway, imports + 1,
                               f"block = bytearray({MEMORY_LIMIT * 3 // 2} * 2**20)\n"
                               f"while True:\n    pass")
    runaway_folder = submission_folder(root, "runaway", release, runaway)
    runs = {"unexecuted": grade_in_background(
                [unexecuted], root / "log-unexecuted", "--jobs", 1, "--cell-timeout", CELL_TIMEOUT,
                "--report-dir", root / "report-unexecuted", *options, niceness=10),
            "runaway": grade_in_background(
                [runaway_folder], root / "log-runaway", "--jobs", 1, "--cell-timeout", LOOP_TIMEOUT,
                "--report-dir", root / "report-runaway", *options, niceness=10)}

    # Meanwhile, in this process: the honest notebook, on which the rest waits (so the two runs
    # above yield the CPU to it: niceness 10).
    honest = executed_solution(tmp_path_factory)
    nbval_runs(tmp_path_factory)  # start test_nbval_grading's runs now: they overlap ours
    executed = root / "executed"
    submission_folder(executed, "honest", release, honest)
    tampered = submission_folder(executed, "tampered", release, _tampered(honest))
    public_tests = tampered / "public_tests.py"
    public_tests.write_text(public_tests.read_text().replace("rtol=1e-4", "rtol=1e9"))
    runs["executed"] = grade_in_background(
        [executed], root / "log-executed", "--jobs", 2, "--cell-timeout", CELL_TIMEOUT,
        "--report-dir", root / "report-executed", *options)

    results = {batch: run.result() for batch, run in runs.items()}
    records, report_dirs = {}, {}
    for batch, result in results.items():
        report_dirs[batch] = root / f"report-{batch}"
        report_file = report_dirs[batch] / "report.json"
        assert report_file.is_file(), f"{batch}: {result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        for record in json.loads(report_file.read_text())["submissions"]:
            records[record["name"]] = record
    return results, records, report_dirs


def _kinds(record):
    return {(f["kind"], f["severity"]) for f in record["findings"]}


def _messages(record, kind):
    return " | ".join(f["message"] for f in record["findings"] if f["kind"] == kind)


def test_every_submission_is_graded_and_each_run_fails(graded):
    results, records, report_dirs = graded
    assert set(records) == {"honest", "wrong_softmax", "wrong_model", "tampered", "runaway", "broken"}
    for batch, result in results.items():
        assert result.returncode == 1, f"{batch}: {result.stderr[-3000:]}"
        assert (report_dirs[batch] / "report.txt").read_text() in result.stdout
        assert "| submission | score |" in (report_dirs[batch] / "report.md").read_text()
    printed = "\n".join(result.stdout for result in results.values())
    for name in records:
        assert re.search(rf"^{name}\s+\d+/100", printed, re.MULTILINE), name
    assert "with 2 job(s)" in results["executed"].stdout


def test_honest_submission_gets_full_marks_and_no_findings(graded):
    record = graded[1]["honest"]
    assert (record["status"], record["score"]) == ("passed", 100)
    assert all(r["passed"] for r in record["exercises"].values())
    assert record["findings"] == [] and record["errors"] == []
    assert record["outputs_compared"] >= 25  # its stored outputs were compared, and all matched
    assert record["timings"]["notebook_run"] > 0 and record["peak_memory_mb"] > 100


def test_wrong_softmax_loses_exactly_exercise_1(graded):
    record = graded[1]["wrong_softmax"]
    exercises = record["exercises"]
    assert (record["status"], record["score"]) == ("failed", 50)
    assert not exercises["exercise_1"]["passed"] and exercises["exercise_2"]["passed"]
    assert "test_my_softmax failed" in exercises["exercise_1"]["message"]
    assert exercises["exercise_1"]["hidden_failures"]
    assert not [f for f in record["findings"] if f["severity"] == "tampering"]


def test_an_error_in_an_ungraded_cell_is_reported_and_grading_goes_on(graded):
    record = graded[1]["wrong_softmax"]
    [error] = [e for e in record["errors"] if e["graded_cell"] is None]
    assert error["status"] == "error" and "ValueError: an error in an ungraded cell" in error["message"]
    assert record["exercises"]["exercise_2"]["passed"]  # cells after the error still ran


def test_wrong_model_loses_exactly_exercise_2(graded):
    record = graded[1]["wrong_model"]
    exercises = record["exercises"]
    assert (record["status"], record["score"]) == ("failed", 50)
    assert exercises["exercise_1"]["passed"] and not exercises["exercise_2"]["passed"]
    assert "softmax" in exercises["exercise_2"]["message"]
    assert record["findings"] == []


@pytest.mark.parametrize("kind, exercise, words", [
    ("check_cell_deleted", "exercise_1", "test_my_softmax(my_softmax)"),
    ("check_cell_edited", "exercise_2", "test_model(model, 10, 400)"),
    ("check_redefined", "exercise_1", "test_my_softmax"),
    ("monkeypatch", None, "numpy.allclose"),
    ("public_tests_modified", None, "public_tests.py"),
])
def test_tampering_is_caught_and_named(graded, kind, exercise, words):
    record = graded[1]["tampered"]
    assert record["status"] == "tampering"
    found = [f for f in record["findings"] if f["kind"] == kind and f["severity"] == "tampering"]
    assert found, record["findings"]
    assert words in _messages(record, kind)
    if exercise:
        assert exercise in {f["exercise"] for f in found}


def test_edited_outputs_are_a_warning_since_no_mark_depends_on_them(graded):
    record = graded[1]["tampered"]
    [edited] = [f for f in record["findings"] if f["kind"] == "outputs_edited"]
    assert edited["severity"] == "warning" and "(5000, 401)" in edited["message"]


def test_redefinition_and_patching_are_seen_in_the_kernel_too(graded):
    record = graded[1]["tampered"]
    assert "from a notebook cell" in _messages(record, "monkeypatch")  # the probe's fingerprint
    assert "is not the instructor's check" in _messages(record, "check_redefined")


def test_marks_come_from_the_graders_process_not_the_patched_kernel(graded):
    record = graded[1]["tampered"]
    exercises = record["exercises"]
    # np.allclose patched in the kernel would make the kernel's own checks misjudge; the
    # grader's ran outside it, and the grader retrained the architecture itself (this shortened
    # notebook never trains): both exercises pass on their merits, and the tampering is named.
    assert exercises["exercise_1"]["passed"] and exercises["exercise_2"]["passed"]
    assert exercises["exercise_2"]["public_check"].endswith("All tests passed!")
    # Trained by this grading or reused from an earlier one of the same architecture in the
    # same grading process (which of the two depends on timing): either way, the grader's.
    assert "retrain" in record["timings"] and "retrain_reused" in record["timings"]


def test_endless_loop_is_interrupted_and_runaway_memory_stopped(graded):
    record = graded[1]["runaway"]
    statuses = {e["status"]: e for e in record["errors"]}
    assert "ran longer than" in statuses["timeout"]["message"]
    assert f"memory limit of {MEMORY_LIMIT} MB exceeded" in statuses["killed"]["message"]
    assert statuses["killed"]["cell"] == statuses["timeout"]["cell"] + 1  # it went on after the loop
    assert "not run" in statuses
    assert (record["status"], record["score"]) == ("failed", 0)
    assert record["peak_memory_mb"] >= MEMORY_LIMIT
    assert record["sandboxed"] is True


def test_a_broken_notebook_is_reported_not_fatal(graded):
    record = graded[1]["broken"]
    assert record["status"] == "error"
    assert "invalid JSON" in record["errors"][0]["message"]


@pytest.mark.parametrize("option, value", [("--memory-limit", "100"), ("--disk-limit", "5"),
                                           ("--cpu-limit", "0"), ("--jobs", "0")])
def test_limits_out_of_range_are_refused_with_their_bounds(tmp_path, capsys, option, value):
    with pytest.raises(SystemExit) as stopped:
        _grade(capsys, tmp_path, option, value)
    error = capsys.readouterr().err
    assert stopped.value.code == 2 and option in error
    assert "--disk-limit at least 10 (MB" in error and "--memory-limit at least 500" in error


def test_bad_paths_get_clear_messages(tmp_path, capsys):
    code, error = _grade(capsys, tmp_path / "nowhere")
    assert code == 2 and "no such file or folder" in error
    text = tmp_path / "notes.txt"
    text.write_text("x")
    assert "not a notebook" in _grade(capsys, text)[1]
    assert "no notebook found" in _grade(capsys, tmp_path)[1]


def test_submission_discovery(tmp_path):
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / NOTEBOOK_NAME).write_text("{}")
    (tmp_path / "bob.ipynb").write_text("{}")
    (tmp_path / "empty").mkdir()
    found = {s.name: s for s in find_submissions([tmp_path])}
    assert set(found) == {"alice", "bob"}
    assert found["alice"].folder == tmp_path / "alice" and found["bob"].folder is None
    assert [s.name for s in find_submissions([tmp_path / "alice"])] == ["alice"]
    with pytest.raises(SubmissionPathError, match="no notebook found"):
        find_submissions([tmp_path / "empty"])


@pytest.mark.parametrize("code, kind", [
    ("def test_model(*args):\n    pass", "check_redefined"),
    ("test_my_softmax = print", "check_redefined"),
    ("from os import path as test_model", "check_redefined"),
    ("globals()['test_model'] = print", "check_redefined"),
    ("import public_tests\npublic_tests.test_model = print", "check_redefined"),
    ("import numpy as xp\nxp.allclose = max", "monkeypatch"),
    ("import builtins\nbuiltins.print = len", "monkeypatch"),
    ("import tensorflow as tf\nsetattr(tf.nn, 'softmax', abs)", "monkeypatch"),
    ("%%writefile public_tests.py\ndef test_model(*a): pass", "helper_file_written"),
    ("open('public_tests.py', 'w').write('')", "helper_file_written"),
])
def test_static_scan_names_each_trick(code, kind):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    findings = static_scan.static_findings(notebook)
    assert (kind, "tampering") in _kinds({"findings": findings}), findings


def test_static_scan_accepts_the_lab_itself():
    from lab_submissions import source_notebook
    assert static_scan.static_findings(source_notebook()) == []


@pytest.mark.parametrize("stored, fresh, kind", [
    ("loss after epoch 40: 0.0279\n", "loss after epoch 40: 0.0279\n", None),
    ("loss after epoch 40: 0.0279\n", "loss after epoch 40: 0.0281\n", "outputs_numbers_differ"),
    ("17 errors out of 5000 images\n", "18 errors out of 5000 images\n", "outputs_edited"),
    ("\x1b[92mtest_model: All tests passed!\x1b[0m\n", "", "outputs_edited"),
    ("<function f at 0x7f3a2c1d9e50>\n", "<function f at 0x7f00aa11bb22>\n", None),
])
def test_stored_outputs_are_compared_as_nbval_does(stored, fresh, kind):
    from instructor.kernel_run import CellResult
    from instructor.output_compare import output_findings
    from instructor.sanitize import load_patterns

    def notebook(text):
        cell = nbformat.v4.new_code_cell("print(x)", execution_count=1)
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)] if text else []
        return nbformat.v4.new_notebook(cells=[cell])

    findings = output_findings(notebook(stored), notebook(fresh), [CellResult(0, "ok")],
                               load_patterns())
    assert [f["kind"] for f in findings] == ([kind] if kind else [])
    assert all(f["severity"] == "warning" for f in findings)  # marks never depend on them


def test_a_cell_whose_output_was_cut_off_is_not_compared():
    from instructor.kernel_run import CellResult
    from instructor.output_compare import compared_cells, output_findings
    from instructor.sanitize import load_patterns

    def notebook(text):
        cell = nbformat.v4.new_code_cell("print(x)", execution_count=1)
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
        return nbformat.v4.new_notebook(cells=[cell])

    stored, fresh = notebook("0\n1\n2\n" * 10), notebook("0\n1\n[grader: ... cut off]\n")
    assert output_findings(stored, fresh, [CellResult(0, "ok")], load_patterns())
    cut_off = [CellResult(0, "ok", dropped_output=5)]
    assert compared_cells(stored, cut_off) == []
    assert output_findings(stored, fresh, cut_off, load_patterns()) == []


def test_stop_after_checks_grades_the_state_the_checks_saw_and_runs_nothing_after(
        tmp_path_factory, capsys):
    from instructor import sandbox
    release = released_folder(tmp_path_factory)
    solved = completed(nbformat.read(release / NOTEBOOK_NAME, as_version=4))
    last_check = cell_index(solved, "exercise_2", "check")
    # Run, either cell would cost marks: the model is gone, and the error would be reported.
    later = insert_code_cell(solved, last_check + 1, "model = None")
    later = insert_code_cell(later, last_check + 2, "raise ValueError('after the checks')")
    root = tmp_path_factory.mktemp("stop-after-checks")
    folder = submission_folder(root, "later_cells", release, later)
    options = [] if sandbox.availability().ok else ["--no-sandbox"]
    code, _ = _grade(capsys, folder, "--stop-after-checks", "--memory-limit", MEMORY_LIMIT,
                     "--report-dir", root / "report", *options)
    [record] = json.loads((root / "report" / "report.json").read_text())["submissions"]
    assert (code, record["status"], record["score"]) == (0, "passed", 100), record
    assert record["errors"] == [] and record["last_cell_run"] == last_check
    assert json.loads((root / "report" / "report.json").read_text())["options"][
        "stop_after_checks"] is True
    assert (f"ran up to cell {last_check}, its last check cell (--stop-after-checks)"
            in (root / "report" / "report.txt").read_text())
