"""Submissions for the release and grading tests, made from the source notebook.

Every submission starts from the student release (``python -m instructor release``) and is
edited with nbformat: graded regions filled with the reference solution or a wrong answer, cells
added, edited or deleted. The honest executed notebook carries the source notebook's stored
outputs (``executed_solution``); the released notebook as a student first runs it is executed by
the project's one kernel runner (``instructor.engine.kernel.execute_notebook``), as
``tools/refresh_outputs.py`` stores the lab's own outputs (``capture_fd_output=False``:
TensorFlow's C++ log is never stored).

Each notebook run starts TensorFlow and trains twice (15-40 s), and one kernel keeps only about
one of the machine's two cores busy. So the expensive work is shared and overlapped: the long
subprocesses (grader runs, nbval runs) are started as soon as their inputs exist and collected
when a test needs them (:class:`Background`, ``nbval_runs``).
"""
import atexit
import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_NAME = "lab2_multiclass.ipynb"
sys.path.insert(0, str(ROOT))  # the instructor package, when pytest runs from elsewhere

from instructor.lab.cells import graded_cells, read_notebook, replace_region, solution_regions  # noqa: E402
from instructor.engine.kernel import execute_notebook  # noqa: E402

WRONG_SOFTMAX = ["    a = np.exp(z) / np.sum(z)  # divides by the sum of z: wrong"]
WRONG_MODEL = ['        keras.Input(shape=(400,)),',
               '        Dense(25, activation="relu", name="L1"),',
               '        Dense(15, activation="relu", name="L2"),',
               '        Dense(10, activation="softmax", name="L3"),  # softmax: wrong here']
_session = {}
# Up to five kernels share the two cores during the session: one thread each for TensorFlow and
# BLAS, so they do not spin against each other (the lab's outputs are the same either way).
ONE_THREAD = {name: "1" for name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS",
                                     "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


def release(out_dir):
    """Run ``python -m instructor release out_dir`` as a user would; returns the folder."""
    result = subprocess.run([sys.executable, "-m", "instructor", "release", str(out_dir)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return Path(out_dir)


def source_notebook():
    return read_notebook(ROOT / NOTEBOOK_NAME)


def with_region(notebook, exercise, lines):
    """A copy of ``notebook`` with the graded region of ``exercise`` replaced by ``lines``."""
    notebook = copy.deepcopy(notebook)
    index, cell = graded_cells(notebook, "solution")[exercise]
    cell.source = replace_region(cell.source, lines)
    return notebook


def completed(student):
    """The student notebook with every graded region filled with the reference solution."""
    for exercise, lines in solution_regions(source_notebook()).items():
        student = with_region(student, exercise, lines)
    return student


def cell_index(notebook, exercise, role):
    return graded_cells(notebook, role)[exercise][0]


def insert_code_cell(notebook, index, code):
    """A copy with a new code cell at ``index`` (never run: no outputs, no execution count)."""
    notebook = copy.deepcopy(notebook)
    notebook.cells.insert(index, nbformat.v4.new_code_cell(code))
    return notebook


def execute(notebook, folder):
    """Run ``notebook`` top to bottom in ``folder`` and return it with its outputs stored.

    One thread per kernel: up to five kernels share the two cores during the session."""
    notebook = copy.deepcopy(notebook)
    execute_notebook(notebook, folder, cell_timeout=300, threads=1)
    return notebook


def released_folder(tmp_path_factory):
    """One student release per test session."""
    if "release" not in _session:
        _session["release"] = release(tmp_path_factory.mktemp("release") / "student")
    return _session["release"]


def executed_solution(tmp_path_factory):
    """The released notebook completed with the reference solutions, with the outputs Run All
    stores: an honest student's finished notebook, made once per session.

    Its code cells are the source notebook's, so their stored outputs and execution counts are
    the source's: nbval on lab2_multiclass.ipynb proves those equal a fresh run's, and running
    the notebook once more here cost 15-20 s of the session's critical path (measured)."""
    if "executed" not in _session:
        student = completed(nbformat.read(released_folder(tmp_path_factory) / NOTEBOOK_NAME,
                                          as_version=4))
        source = source_notebook()
        for index, (cell, stored) in enumerate(zip(student.cells, source.cells, strict=True)):
            if cell.cell_type != "code":
                continue
            assert cell.source == stored.source, (
                f"cell {index} of the completed release differs from the source notebook's; "
                f"executed_solution copies the source's outputs, so the two must have the same code")
            cell.outputs = copy.deepcopy(stored.outputs)
            cell.execution_count = stored.execution_count
        _session["executed"] = student
    return copy.deepcopy(_session["executed"])


def submission_folder(parent, name, release_dir, notebook):
    """A student's repository as GitHub Classroom clones it: the release plus their notebook."""
    folder = Path(parent) / name
    shutil.copytree(release_dir, folder)
    nbformat.write(notebook, folder / NOTEBOOK_NAME)
    return folder


class Background:
    """A subprocess started now and collected later. Its output goes to files, so a chatty
    process never blocks on a full pipe while the tests do something else."""

    def __init__(self, args, cwd, log_dir, niceness=0):
        """``niceness`` > 0 lowers the process's CPU priority: work that is not on the session's
        critical path then leaves the cores to the work that is."""
        log_dir = Path(log_dir)
        log_dir.mkdir(parents=True, exist_ok=True)
        self._out, self._err = log_dir / "stdout.txt", log_dir / "stderr.txt"
        with open(self._out, "w") as out, open(self._err, "w") as err:
            self._process = subprocess.Popen(
                [str(a) for a in args], cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                env=dict(os.environ, **ONE_THREAD),
                preexec_fn=(lambda: os.nice(niceness)) if niceness else None)
        self.args = args
        atexit.register(self._stop)  # a session cut short must not leave it running

    def _stop(self):
        # Terminated first: `python -m instructor grade` then stops its grading processes and
        # deletes their folders (killed, it left them in /tmp).
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()

    def result(self, timeout=900):
        """Wait for the process; returns a CompletedProcess with its text output."""
        try:
            self._process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        return subprocess.CompletedProcess(self.args, self._process.returncode,
                                           self._out.read_text(), self._err.read_text())


def grade_in_background(paths, log_dir, *options, niceness=0):
    """Start ``python -m instructor grade PATHS... OPTIONS...``."""
    return Background([sys.executable, "-m", "instructor", "grade", *paths, *options], ROOT,
                      log_dir, niceness)


def released_run(tmp_path_factory):
    """The student notebook run top to bottom as released (errors kept), in a subprocess started
    once per session; returns a function that waits for it and returns the executed notebook.
    test_release's acceptance tests read it."""
    if "released_run" not in _session:
        # In a copy: running it leaves __pycache__ and the like, which must not appear in the
        # release that test_release inspects.
        root = tmp_path_factory.mktemp("released-run")
        student_dir = root / "student"
        shutil.copytree(released_folder(tmp_path_factory), student_dir)
        out = root / NOTEBOOK_NAME
        process = Background([sys.executable, __file__, str(student_dir / NOTEBOOK_NAME), str(out)],
                             student_dir, root / "log", 10)

        def result():
            finished = process.result()
            assert finished.returncode == 0, finished.stderr[-3000:]
            return nbformat.read(out, as_version=4)

        _session["released_run"] = result
    return _session["released_run"]


def _tampered(honest):
    """The executed honest notebook tampered with in every way that cannot change a mark: a
    check cell deleted, one edited, a check redefined, numpy.allclose patched, a stored output
    edited (and, in its folder, public_tests.py loosened)."""
    notebook = copy.deepcopy(honest)
    del notebook.cells[cell_index(notebook, "exercise_1", "check")]
    notebook.cells[cell_index(notebook, "exercise_2", "check")].source = \
        'print("test_model: All tests passed!")'
    # After the last check: patched before it, numpy.allclose would break the student's own
    # check cells in the grader's run (public_tests tells activations apart with it), and an
    # exercise whose check cell fails in the run does not pass.
    notebook = insert_code_cell(notebook, cell_index(notebook, "exercise_2", "check") + 1,
                                "def test_my_softmax(target):\n    print('All tests passed!')\n"
                                "np.allclose = lambda *a, **k: True  # everything is close")
    [output] = [o for c in notebook.cells for o in c.get("outputs", [])
                if "X shape: (5000, 400)" in o.get("text", "")]
    output["text"] = output["text"].replace("(5000, 400)", "(5000, 401)")
    return notebook


def _until_check(notebook, exercise="exercise_2"):
    """Shortened after ``exercise``'s check cell: nothing graded comes after it."""
    notebook = copy.deepcopy(notebook)
    notebook.cells = notebook.cells[:cell_index(notebook, exercise, "check") + 1]
    return notebook


NO_INPUT = ['        Dense(25, activation="relu", name="L1"),',
            '        Dense(15, activation="relu", name="L2"),',
            '        Dense(10, activation="linear", name="L3"),  # no keras.Input: no input size']
INTERFERES = ("import IPython.display\n"
              "IPython.display.display = lambda *args, **kwargs: None  # silences every display")


def start_graded_batch(tmp_path_factory):
    """Start grading the grading tests' batch in the background, once per session (the tests'
    conftest.py does it before the first test, so that it overlaps the tests before
    test_grading's)."""
    if "graded" not in _session:
        release_dir = released_folder(tmp_path_factory)
        solved = completed(nbformat.read(release_dir / NOTEBOOK_NAME, as_version=4))
        honest = executed_solution(tmp_path_factory)
        root = tmp_path_factory.mktemp("grading")
        batch = root / "submissions"
        batch.mkdir()
        submission_folder(batch, "honest", release_dir, honest)
        wrong_softmax = with_region(solved, "exercise_1", WRONG_SOFTMAX)
        wrong_softmax = insert_code_cell(
            wrong_softmax, cell_index(wrong_softmax, "exercise_2", "solution"),
            "raise ValueError('an error in an ungraded cell')")
        nbformat.write(_until_check(wrong_softmax), batch / "wrong_softmax.ipynb")  # a loose notebook
        submission_folder(batch, "wrong_model", release_dir,
                          _until_check(with_region(solved, "exercise_2", WRONG_MODEL)))
        submission_folder(batch, "no_input", release_dir,
                          _until_check(with_region(solved, "exercise_2", NO_INPUT)))
        tampered = submission_folder(batch, "tampered", release_dir, _tampered(honest))
        public_tests = tampered / "public_tests.py"
        public_tests.write_text(public_tests.read_text().replace("rtol=1e-4", "rtol=1e9"))
        interferes = insert_code_cell(solved, cell_index(solved, "exercise_1", "solution"), INTERFERES)
        submission_folder(batch, "interferes", release_dir, _until_check(interferes))
        (batch / "broken.ipynb").write_text('{"cells": [')
        # After the last check cell: run, either cell would cost marks (the model gone, an error
        # reported); with --stop-after-checks neither runs.
        last_check = max(index for index, _ in graded_cells(solved, "check").values())
        later = insert_code_cell(solved, last_check + 1, "model = None")
        later = insert_code_cell(later, last_check + 2, "raise ValueError('after the checks')")
        submission_folder(batch, "later_cells", release_dir, later)
        report_dir = root / "report"
        _session["graded"] = (grade_in_background(
            [batch], root / "log", "--jobs", 2, "--stop-after-checks", "--kernel-threads", 1,
            "--cell-timeout", 120, "--report-dir", report_dir), report_dir)


def graded_batch(tmp_path_factory):
    """The grading tests' submissions graded in one run of ``python -m instructor grade``
    (--jobs 2, --stop-after-checks), started by :func:`start_graded_batch` and collected here.

    Returns (CompletedProcess, {name: record as JSON}, report folder)."""
    start_graded_batch(tmp_path_factory)
    process, report_dir = _session["graded"]
    if "graded_result" not in _session:
        result = process.result()
        report_file = report_dir / "report.json"
        assert report_file.is_file(), f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        records = {record["name"]: record
                   for record in json.loads(report_file.read_text())["submissions"]}
        _session["graded_result"] = (result, records, report_dir)
    return _session["graded_result"]


COMMAND_GRADER = "classroom-resources/autograding-command-grader@v1"
# A wrong attempt at the optional challenge: the unshifted formula, which overflows.
WRONG_CHALLENGE = ["    a = np.exp(z) / np.sum(np.exp(z))  # not shifted: overflows for large z"]


def classroom_tests(folder):
    """(test name, command, points) of each autograding test of the released workflow in
    ``folder``, in order: the first is the gate, one nbval run of the whole notebook."""
    import yaml
    workflow = yaml.safe_load((folder / ".github/workflows/grade.yml").read_text())
    return [(step["with"]["test-name"], step["with"]["command"], step["with"]["max-score"])
            for step in workflow["jobs"]["nbval"]["steps"] if step.get("uses") == COMMAND_GRADER]


def nbval_runs(tmp_path_factory):
    """The released workflow's gate (`python -m pytest --nbval lab2_multiclass.ipynb ...`, read
    from the workflow) in three released folders, started once per session.

    {"honest": Background, "partly wrong": Background, "wrong": Background, "folders": {...}}:
    the completed notebook with stored outputs; a wrong softmax and a wrong optional challenge
    (not executed); a wrong softmax and a wrong model. test_nbval_grading collects them, for
    nbval's verdicts and for the Classroom points the exercises' tests give after their gate.
    """
    if "nbval" not in _session:
        release_dir = released_folder(tmp_path_factory)
        root = tmp_path_factory.mktemp("nbval")
        solved = completed(nbformat.read(release_dir / NOTEBOOK_NAME, as_version=4))
        notebooks = {
            "honest": executed_solution(tmp_path_factory),
            "partly wrong": with_region(with_region(solved, "exercise_1", WRONG_SOFTMAX),
                                        "challenge_stable_softmax", WRONG_CHALLENGE),
            "wrong": with_region(with_region(solved, "exercise_1", WRONG_SOFTMAX),
                                 "exercise_2", WRONG_MODEL)}
        folders = {name: submission_folder(root, name.replace(" ", "-"), release_dir, notebook)
                   for name, notebook in notebooks.items()}
        _, gate, _ = classroom_tests(release_dir)[0]
        _session["nbval"] = {name: Background(["bash", "-c", gate], folder,
                                              root / f"log-{name.replace(' ', '-')}", 10)
                             for name, folder in folders.items()}
        _session["nbval"]["folders"] = folders
    return _session["nbval"]


if __name__ == "__main__":  # python lab_submissions.py IN.ipynb OUT.ipynb: execute IN in its folder
    source_path, target_path = Path(sys.argv[1]), Path(sys.argv[2])
    nbformat.write(execute(nbformat.read(source_path, as_version=4), source_path.parent), target_path)
