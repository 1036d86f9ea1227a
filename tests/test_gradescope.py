"""The Gradescope autograder (`python -m instructor export-gradescope OUT.zip`): what the zip
holds, and its run_autograder run in a temporary /autograder (AUTOGRADER_ROOT) on honest, wrong,
tampered and unreadable submissions, with results.json checked against Gradescope's format.
Each real submission is one grading (a kernel that trains, 20-100 s): the three run side by side.
"""
import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from lab_submissions import (WRONG_SOFTMAX, cell_index, completed, insert_code_cell,
                             released_folder, source_notebook, with_region)
from instructor.lab import spec
from instructor.__main__ import main
from instructor.lab.cells import graded_cells, solution_regions
from instructor.exports.gradescope import unpack, write_autograder_zip
from instructor.exports.gradescope_run import grading_plan

TEST_FIELDS = {"name", "number", "score", "max_score", "status", "output", "visibility"}


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory):
    path = tmp_path_factory.mktemp("gradescope") / "lab2-autograder.zip"
    assert main(["export-gradescope", str(path)]) == 0
    return path


def test_the_zip_holds_the_grader_and_helpers_and_nothing_else(autograder_zip, tmp_path_factory):
    with zipfile.ZipFile(autograder_zip) as archive:
        names = set(archive.namelist())
        modes = {info.filename: (info.external_attr >> 16) & 0o777 for info in archive.infolist()}
        text = "\n".join(archive.read(name).decode("utf-8", "replace") for name in names)
    assert {"setup.sh", "run_autograder", "requirements.txt", "lab2_multiclass.ipynb",
            "public_tests.py", "autils.py", "lab_utils_softmax.py", "nbval_sanitize.cfg",
            "data/ex3data1.mat", "instructor/grading/grade.py", "instructor/grading/hidden_checks.py",
            "instructor/exports/gradescope_run.py"} <= names
    assert modes["run_autograder"] & stat.S_IXUSR and modes["setup.sh"] & stat.S_IXUSR
    top = {name.split("/")[0] for name in names}
    assert top <= {"setup.sh", "run_autograder", "requirements.txt", "lab2_multiclass.ipynb",
                   "public_tests.py", "autils.py", "lab_utils_softmax.py", "nbval_sanitize.cfg",
                   "data", "images", "instructor"}, top
    assert not any("__pycache__" in name for name in names)
    lines = {line.strip() for region in solution_regions(source_notebook()).values()
             for line in region if line.strip() and not line.strip().startswith("#")}
    # Lines the students' own release shows (a hint, a check's message) are no leak.
    release = released_folder(tmp_path_factory)
    students_see = "\n".join(p.read_text(errors="replace") for p in release.rglob("*") if p.is_file())
    assert lines and not [line for line in lines if line in text and line not in students_see]


def test_export_refuses_bad_paths(tmp_path, capsys, autograder_zip):
    assert main(["export-gradescope", str(tmp_path / "autograder.tar")]) == 2
    assert "ending in .zip" in capsys.readouterr().err
    assert main(["export-gradescope", str(autograder_zip)]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["export-gradescope", str(autograder_zip), "--force"]) == 0


def test_the_zip_is_the_same_bytes_each_time(tmp_path):
    write_autograder_zip(tmp_path / "a.zip")
    write_autograder_zip(tmp_path / "b.zip")
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()


def test_without_a_sandbox_the_kernel_runs_as_the_lab_user_or_the_container_is_the_isolation(
        monkeypatch):
    monkeypatch.setenv("INSTRUCTOR_SANDBOX_UNAVAILABLE", "1")
    options, reason = grading_plan()
    assert reason and options.isolation in ("user", "none") and not options.warm_up
    if options.isolation == "none":  # no lab-student here: the reason says so
        assert "lab-student" in reason


def _autograder_root(tmp_path_factory, autograder_zip, name, files):
    """A fresh /autograder: source/ from the zip, submission/ holding ``files``."""
    root = tmp_path_factory.mktemp(f"autograder-{name}")
    unpack(autograder_zip, root / "source")
    (root / "submission").mkdir()
    for file_name, content in files.items():
        if isinstance(content, str):
            (root / "submission" / file_name).write_text(content)
        else:
            nbformat.write(content, root / "submission" / file_name)
    return root


def _start(root, **env):
    return subprocess.Popen([str(root / "source" / "run_autograder")], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "AUTOGRADER_ROOT": str(root),
                                 "LAB_PYTHON": sys.executable, **env})


def _results(root, process):
    output = process.communicate()[0]
    assert process.returncode == 0, output[-3000:]
    path = root / "results" / "results.json"
    assert path.is_file(), output[-3000:]
    document = json.loads(path.read_text())
    _assert_gradescope_format(document)
    return document


def _assert_gradescope_format(document):
    assert isinstance(document["score"], float)
    assert document["visibility"] == "visible" and isinstance(document["output"], str)
    assert [test["name"] for test in document["tests"]] == [item.title for item in spec.EXERCISES]
    for test, item in zip(document["tests"], spec.EXERCISES):
        assert TEST_FIELDS <= set(test), test
        assert test["max_score"] == float(item.points)
        assert 0 <= test["score"] <= test["max_score"]
        assert test["status"] in ("passed", "failed") and test["visibility"] == "visible"
    assert document["score"] == sum(test["score"] for test in document["tests"])
    assert "hidden input" not in json.dumps(document)


def _by_name(document):
    return {test["name"]: test for test in document["tests"]}


def _run_here(root):
    """What run_autograder runs, in this process: results.json checked and returned."""
    from instructor.exports import gradescope_run
    document = gradescope_run.run(root)
    assert json.loads((root / "results" / "results.json").read_text()) == document
    _assert_gradescope_format(document)
    return document


def test_a_submission_without_a_notebook_gets_a_clear_zero(tmp_path_factory, autograder_zip):
    root = _autograder_root(tmp_path_factory, autograder_zip, "empty", {"notes.txt": "hello"})
    document = _run_here(root)
    assert document["score"] == 0.0 and "upload lab2_multiclass.ipynb" in document["output"]
    root = _autograder_root(tmp_path_factory, autograder_zip, "broken",
                            {"lab2_multiclass.ipynb": "{ not json"})
    document = _run_here(root)
    assert document["score"] == 0.0
    assert "could not be read" in document["tests"][0]["output"]


@pytest.mark.acceptance  # end to end: `python -m pytest -m acceptance`
def test_honest_wrong_and_tampered_submissions(tmp_path_factory, autograder_zip):
    student = nbformat.read(released_folder(tmp_path_factory) / "lab2_multiclass.ipynb", as_version=4)
    honest = completed(student)
    wrong = with_region(honest, "exercise_1", WRONG_SOFTMAX)
    tampered = nbformat.from_dict(json.loads(nbformat.writes(wrong)))
    check = graded_cells(tampered, "check")["exercise_1"][1]
    check.source = 'print("test_my_softmax: All tests passed!")'
    roots = {name: _autograder_root(tmp_path_factory, autograder_zip, name,
                                    {"lab2_multiclass.ipynb": notebook})
             for name, notebook in (("honest", honest), ("wrong", wrong), ("tampered", tampered))}
    # The tampered one as on Gradescope, where no sandbox starts: graded without it.
    processes = {"honest": _start(roots["honest"]), "wrong": _start(roots["wrong"]),
                 "tampered": _start(roots["tampered"], INSTRUCTOR_SANDBOX_UNAVAILABLE="1")}
    results = {name: _results(roots[name], process) for name, process in processes.items()}
    ex1, ex2 = spec.exercise("exercise_1").title, spec.exercise("exercise_2").title

    assert results["honest"]["score"] == float(spec.MAX_SCORE), results["honest"]
    assert all(test["status"] == "passed" for test in results["honest"]["tests"])

    wrong = _by_name(results["wrong"])
    assert results["wrong"]["score"] == float(spec.exercise("exercise_2").points)
    assert wrong[ex1]["status"] == "failed" and "add up to" in wrong[ex1]["output"]
    assert wrong[ex2]["status"] == "passed"

    tampered = results["tampered"]
    assert _by_name(tampered)[ex1]["score"] == 0.0
    assert "Flagged for your teacher" in tampered["output"] and "check cell" in tampered["output"]
    assert "Graded without isolation" in tampered["output"] or "unprivileged" in tampered["output"]
    assert tampered["extra_data"]["isolation"] != "sandbox"


# --- as on Gradescope: root, no sandbox, the kernel as the unprivileged lab-student ----------------

def _readable_python(tmp_path_factory):
    """A Python every user can run, with this environment's packages: a virtual environment of
    the system's python3 (same minor version) whose site-packages points at this one's. On
    Gradescope, setup.sh installs the requirements into /opt/lab-venv for the same reason (the
    grader's own Python may live in root's home, which no other user can read)."""
    import shutil
    import sysconfig
    import tempfile
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    system = shutil.which(version, path="/usr/bin:/usr/local/bin")
    if system is None:
        pytest.skip(f"no system {version} that another user could run")
    folder = Path(tempfile.mkdtemp(prefix="lab-venv-"))  # under /tmp: reachable by every user
    folder.chmod(0o755)
    subprocess.run([system, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=120)
    site = next(folder.glob("lib/python*/site-packages"))
    (site / "lab_packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return folder / "bin" / "python"


@pytest.fixture(scope="module")
def lab_student(tmp_path_factory):
    """The unprivileged user lab-student, as setup.sh creates it (removed afterwards if this
    test created it), and a Python it can run."""
    import pwd
    import shutil
    if os.geteuid() != 0 or shutil.which("useradd") is None or shutil.which("setpriv") is None:
        pytest.skip("needs root, useradd and setpriv (as on Gradescope)")
    python = _readable_python(tmp_path_factory)
    try:
        pwd.getpwnam("lab-student")
        created = False
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        "lab-student"], check=True, timeout=60)
        created = True
    probe = subprocess.run(["setpriv", f"--reuid={pwd.getpwnam('lab-student').pw_uid}",
                            f"--regid={pwd.getpwnam('lab-student').pw_gid}", "--clear-groups",
                            str(python), "-c", "import ipykernel, numpy"],
                           capture_output=True, text=True, timeout=120, cwd="/")
    if probe.returncode != 0:
        pytest.skip(f"lab-student cannot import this environment's packages: {probe.stderr[-500:]}")
    yield python
    if created:
        subprocess.run(["userdel", "lab-student"], timeout=60)


ATTACK = '''import os, subprocess, json
ROOT = {root!r}
seen = {{}}
for label, path in (("read_grader", ROOT + "/source/instructor/grading/hidden_checks.py"),
                    ("list_source", ROOT + "/source"),
                    ("read_results", ROOT + "/results/results.json")):
    try:
        os.listdir(path) if label == "list_source" else open(path).read()
        seen[label] = "LEAKED"
    except OSError as error:
        seen[label] = "BLOCKED " + type(error).__name__
try:
    open(ROOT + "/results/results.json", "w").write('{{"score": 1000.0}}')
    seen["write_results"] = "LEAKED"
except OSError as error:
    seen["write_results"] = "BLOCKED " + type(error).__name__
# A daemon that keeps trying to overwrite the results after the notebook ends.
subprocess.Popen(["sh", "-c", "while true; do echo '{{\\"score\\": 1000.0}}' > "
                  + ROOT + "/results/results.json 2>/dev/null; sleep 0.05; done"],
                 start_new_session=True)
open({report!r}, "w").write(json.dumps(seen))
'''


@pytest.mark.acceptance  # end to end: `python -m pytest -m acceptance`
def test_as_root_without_a_sandbox_student_code_reaches_neither_grader_nor_results(
        tmp_path_factory, autograder_zip, lab_student):
    import pwd
    import tempfile

    import psutil
    root = Path(tempfile.mkdtemp(prefix="autograder-"))  # like /autograder: every user may enter
    root.chmod(0o755)
    report = Path(tempfile.mkdtemp(prefix="attack-")) / "seen.json"
    report.parent.chmod(0o777)
    unpack(autograder_zip, root / "source")
    (root / "submission").mkdir()
    student = nbformat.read(released_folder(tmp_path_factory) / "lab2_multiclass.ipynb", as_version=4)
    honest = completed(student)
    attack = insert_code_cell(honest, cell_index(honest, "exercise_1", "solution"),
                              ATTACK.format(root=str(root), report=str(report)))
    nbformat.write(attack, root / "submission" / "lab2_multiclass.ipynb")
    process = _start(root, INSTRUCTOR_SANDBOX_UNAVAILABLE="1", LAB_PYTHON=str(lab_student))
    document = _results(root, process)
    uid = pwd.getpwnam("lab-student").pw_uid
    left = [p for p in psutil.process_iter(["uids"]) if p.info["uids"] and p.info["uids"].real == uid]
    assert not left, "processes of lab-student outlived the grading"
    # After every process of lab-student ended: the results are the grader's.
    assert json.loads((root / "results" / "results.json").read_text()) == document
    assert document["extra_data"]["isolation"] == "user lab-student", document["output"]
    assert "unprivileged user lab-student" in document["output"]
    assert document["score"] == float(spec.MAX_SCORE), document
    seen = json.loads(report.read_text())
    assert all(verdict.startswith("BLOCKED") for verdict in seen.values()), seen
