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

import nbformat
import pytest

from lab_submissions import (WRONG_SOFTMAX, completed, released_folder, source_notebook,
                             with_region)
from instructor import spec
from instructor.__main__ import main
from instructor.cells import graded_cells, solution_regions
from instructor.gradescope_export import unpack, write_autograder_zip
from instructor.gradescope_run import grading_plan

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
            "data/ex3data1.mat", "instructor/grade.py", "instructor/hidden_checks.py",
            "instructor/gradescope_run.py"} <= names
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


def test_without_a_sandbox_the_container_is_the_isolation(monkeypatch):
    monkeypatch.setenv("INSTRUCTOR_SANDBOX_UNAVAILABLE", "1")
    options, sandboxed, reason = grading_plan()
    assert not sandboxed and reason
    assert getattr(options, "sandbox", False) is False


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
                            env=dict(os.environ, AUTOGRADER_ROOT=str(root),
                                     LAB_PYTHON=sys.executable, **env))


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


def test_a_submission_without_a_notebook_gets_a_clear_zero(tmp_path_factory, autograder_zip):
    root = _autograder_root(tmp_path_factory, autograder_zip, "empty", {"notes.txt": "hello"})
    document = _results(root, _start(root))
    assert document["score"] == 0.0 and "upload lab2_multiclass.ipynb" in document["output"]
    root = _autograder_root(tmp_path_factory, autograder_zip, "broken",
                            {"lab2_multiclass.ipynb": "{ not json"})
    document = _results(root, _start(root))
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
    assert "Flagged:" in tampered["output"] and "check cell" in tampered["output"]
    assert "without the grader's sandbox" in tampered["output"]
    assert tampered["extra_data"]["sandboxed"] is False
