"""The instructor grader (`python -m instructor grade`): marks from values judged outside the
kernel, findings that describe and never decide, and one submission never costing the others.

The graded cases share one batch (lab_submissions.graded_batch), started in the background as
soon as a test needs it and graded with --jobs 2 and --stop-after-checks (nothing here depends on
the trainings after the last check): an honest notebook, a wrong softmax with an error in an
ungraded cell, a wrong model, a model without keras.Input (its check cell fails in the run), a
notebook tampered with in every way that cannot change a mark, one that breaks the grader's
calls, and a broken file. The grading process's own limits are tested with stand-ins for the
grading of one submission (no kernel).
"""
import json
import os
import re
import time

import nbformat
import psutil  # a requirement of ipykernel
import pytest

from lab_submissions import NOTEBOOK_NAME, graded_batch  # first: it puts the project on sys.path
from instructor.__main__ import main
from instructor.grading import pool
from instructor.grading.grade import read_submitted
from instructor.grading.options import GradeOptions
from instructor.grading.record import ExerciseResult, SubmissionRecord
from instructor.grading.submissions import Submission, SubmissionPathError, find_submissions
from instructor.engine.limits import LimitExceeded
from instructor.lab import spec


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return graded_batch(tmp_path_factory)


def _kinds(record):
    return {item["kind"] for item in record["findings"]}


def _exercise(record, exercise):
    return record["exercises"][exercise]


def test_every_submission_gets_a_record_and_the_run_fails(graded):
    result, records, report_dir = graded
    assert result.returncode == 1, result.stderr[-3000:]
    assert set(records) == {"honest", "wrong_softmax", "wrong_model", "no_input", "tampered",
                            "interferes", "broken", "later_cells"}
    assert (report_dir / "report.txt").read_text() in result.stdout
    for name in records:
        assert re.search(rf"^{name}\s+\d+/100", result.stdout, re.MULTILINE), name
    assert "with 2 job(s)" in result.stdout
    assert sorted(p.name for p in report_dir.iterdir()) == ["report.html", "report.json",
                                                           "report.md", "report.txt"]


def test_honest_submission_gets_full_marks_and_no_findings(graded):
    record = graded[1]["honest"]
    assert (record["status"], record["score"], record["flagged"]) == ("passed", 100, False)
    assert all(result["passed"] for result in record["exercises"].values())
    assert record["findings"] == [] and record["errors"] == []
    assert record["outputs_compared"] >= 15  # its stored outputs were compared, and all matched
    assert record["timings"]["calls"] > 0 and record["peak_memory_mb"] > 100
    assert record["isolation"] in ("sandbox", "none")


def test_wrong_softmax_loses_exactly_exercise_1(graded):
    record = graded[1]["wrong_softmax"]
    assert (record["status"], record["score"]) == ("failed", 50)
    ex1 = _exercise(record, "exercise_1")
    assert not ex1["passed"] and "divided by the sum of z" in ex1["message"]
    assert ex1["check_cell"] == "error"  # its check cell failed in the grader's run too
    assert _exercise(record, "exercise_2")["passed"]
    assert not record["flagged"]


def test_an_error_in_an_ungraded_cell_is_reported_and_grading_goes_on(graded):
    record = graded[1]["wrong_softmax"]
    [error] = [e for e in record["errors"] if e["graded_cell"] is None]
    assert error["status"] == "error" and "ValueError: an error in an ungraded cell" in error["message"]
    assert _exercise(record, "exercise_2")["passed"]  # cells after the error still ran


def test_wrong_model_loses_exactly_exercise_2(graded):
    record = graded[1]["wrong_model"]
    assert (record["status"], record["score"]) == ("failed", 50)
    assert _exercise(record, "exercise_1")["passed"]
    assert "softmax" in _exercise(record, "exercise_2")["message"]
    assert record["findings"] == []


def test_a_model_without_keras_input_fails_with_the_fix_named(graded):
    """Its check cell failed in the grader's run, as it did for the student, and the message
    names the fix."""
    ex2 = _exercise(graded[1]["no_input"], "exercise_2")
    assert not ex2["passed"] and ex2["check_cell"] == "error"
    assert "keras.Input(shape=(400,))" in ex2["message"]
    assert _exercise(graded[1]["no_input"], "exercise_1")["passed"]


def test_tampering_is_flagged_and_changes_no_mark(graded):
    record = graded[1]["tampered"]
    assert record["flagged"] and (record["status"], record["score"]) == ("passed", 100)
    assert {"check_cell_deleted", "check_cell_edited", "check_redefined", "monkeypatch",
            "public_tests_modified"} <= _kinds(record)
    by_kind = {item["kind"]: item for item in record["findings"]}
    assert by_kind["check_cell_deleted"]["exercise"] == "exercise_1"
    assert "numpy.allclose" in by_kind["monkeypatch"]["message"]
    assert all(by_kind[kind]["severity"] == "tampering" for kind in
               ("check_cell_deleted", "check_redefined", "monkeypatch"))
    # The grader ran the instructor's check cells (one put back) and judged the values itself.
    assert _exercise(record, "exercise_1")["check_cell"] == "ok"


def test_edited_outputs_are_a_warning_since_no_mark_depends_on_them(graded):
    [edited] = [f for f in graded[1]["tampered"]["findings"] if f["kind"] == "outputs_edited"]
    assert edited["severity"] == "warning" and "(5000, 401)" in edited["message"]


def test_a_notebook_that_breaks_the_graders_calls_earns_nothing_they_would_have_judged(graded):
    record = graded[1]["interferes"]
    assert record["score"] == 0 and record["flagged"]
    assert "grader_call_interfered" in _kinds(record)
    assert all(result["status"] == "not graded" for result in record["exercises"].values())


def test_a_broken_notebook_is_reported_not_fatal(graded):
    record = graded[1]["broken"]
    assert record["status"] == "error"
    assert "invalid JSON" in record["errors"][0]["message"]


def test_stop_after_checks_grades_the_state_the_checks_saw_and_runs_nothing_after(graded):
    record = graded[1]["later_cells"]
    assert (record["status"], record["score"]) == ("passed", 100), record
    assert record["errors"] == [] and record["last_cell_run"] is not None
    report = json.loads((graded[2] / "report.json").read_text())
    assert report["options"]["stop_after_checks"] is True
    assert (f"ran up to cell {record['last_cell_run']}, its last check cell (--stop-after-checks)"
            in (graded[2] / "report.txt").read_text())


def test_the_report_validates_against_its_schema(graded):
    import jsonschema

    from instructor.grading.record import Report, schema
    document = json.loads((graded[2] / "report.json").read_text())
    jsonschema.validate(document, schema())
    assert Report.from_json(document).to_json()["submissions"] == document["submissions"]


# --- what is refused before anything is parsed ---------------------------------------------------

def test_sizes_are_checked_before_the_notebook_is_used(tmp_path, monkeypatch):
    from instructor.grading import grade
    many = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("pass") for _ in range(600)])
    nbformat.write(many, tmp_path / "many.ipynb")
    with pytest.raises(LimitExceeded, match="many.ipynb has 600 cells; the grader reads at most 500"):
        read_submitted(tmp_path / "many.ipynb")
    (tmp_path / "deep.ipynb").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(LimitExceeded, match="nests its JSON 100000 levels deep"):
        read_submitted(tmp_path / "deep.ipynb")
    notebook = json.loads(nbformat.writes(nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("pass")])))
    notebook["cells"][0]["metadata"]["deep"] = json.loads("[" * 900 + "]" * 900)
    (tmp_path / "metadata.ipynb").write_text(json.dumps(notebook))
    with pytest.raises(LimitExceeded, match="the grader reads at most 64"):
        read_submitted(tmp_path / "metadata.ipynb")
    monkeypatch.setattr(grade, "MAX_NOTEBOOK_BYTES", 1000)
    with pytest.raises(LimitExceeded, match=r"many.ipynb has [\d,]+ bytes; the grader reads at most 1,000"):
        read_submitted(tmp_path / "many.ipynb")


def test_finding_submissions_parses_no_notebook(tmp_path):
    """The supervisor only lists files: a notebook nested 100,000 deep crashed the whole run with
    RecursionError there, and a 500 MB one took a gigabyte, before any limit was checked. The
    grading process refuses them, each in its own record."""
    (tmp_path / "deep.ipynb").write_text("[" * 100_000 + "]" * 100_000)
    [submission] = find_submissions([tmp_path])
    assert submission.problem == ""
    from instructor.grading.grade import grade_safely
    record = grade_safely(submission, GradeOptions(isolation="none"), b"secret")
    assert record.status == "error" and "nests its JSON 100000 levels deep" in record.refused


@pytest.mark.parametrize("change, words", [
    (lambda nb: nb["metadata"].update(big=int("9" * 5000)), r"not a notebook \(Exceeds the limit"),
    (lambda nb: nb["cells"][0].update(source=["x = 1\n", 5]), "not a valid notebook"),
    (lambda nb: nb["cells"][0].update(source="x = '\ud800'"), "lone surrogate"),
])
def test_damaged_notebooks_are_unreadable_not_grader_errors(tmp_path, change, words):
    import sys
    sys.set_int_max_str_digits(0)  # to write the integer; the grader reads with the default
    notebook = json.loads(nbformat.writes(nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("pass")])))
    change(notebook)
    (tmp_path / "damaged.ipynb").write_text(json.dumps(notebook), encoding="utf-8",
                                            errors="surrogatepass")
    sys.set_int_max_str_digits(4300)
    from instructor.lab.cells import NotebookError
    with pytest.raises(NotebookError, match=words):
        read_submitted(tmp_path / "damaged.ipynb")


def test_a_refused_notebook_gets_a_record_that_says_why(tmp_path, capsys):
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("pass") for _ in range(600)]),
                   tmp_path / "many.ipynb")
    code = main(["grade", str(tmp_path / "many.ipynb"), "--no-sandbox",
                 "--report-dir", str(tmp_path / "report")])
    [record] = json.loads((tmp_path / "report" / "report.json").read_text())["submissions"]
    assert code == 1 and record["status"] == "error"
    assert "the grader reads at most 500" in record["refused"]
    assert record["errors"][0]["status"] == "refused"


# --- the grading process's own limits (stand-ins for the grading of one submission) ------------

def _record(submission, status="passed"):
    record = SubmissionRecord(submission.name, str(submission.notebook))
    record.exercises = {item.id: ExerciseResult.make(item.id, status, status)
                        for item in spec.EXERCISES}
    return record.finish()


DEEP = 3000  # folders deep: shutil.rmtree meets RecursionError on such a tree


def stand_in(submission, options, secret):
    """Grades instantly, except for the submissions named to misbehave."""
    if submission.name == "sleeps":  # leaves a deep tree in its temporary folder, as a kernel can
        import tempfile
        os.chdir(tempfile.mkdtemp(prefix="left-by-sleeps-"))
        for _ in range(DEEP):  # one level at a time: the whole path is longer than PATH_MAX
            os.mkdir("d")
            os.chdir("d")
        time.sleep(60)
    if submission.name == "eats":
        hog = bytearray(600 * 2**20)  # the grading process's own memory, not a kernel's
        time.sleep(60)
        del hog
    if submission.name == "dies":
        os._exit(3)
    return _record(submission)


def _submissions(*names):
    return [Submission(name, f"{name}.ipynb") for name in names]


def test_a_deadline_a_memory_limit_and_a_death_cost_only_their_own_submission(tmp_path,
                                                                            monkeypatch):
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the run's folders go
    options = GradeOptions(isolation="none", deadline_seconds=3, grader_memory_mb=400)
    records = pool.grade_all(_submissions("alice", "sleeps", "bob", "eats", "dies", "carol"),
                             options, jobs=2, grade_one=stand_in)
    by_name = {record.name: record for record in records}
    assert [record.name for record in records] == ["alice", "sleeps", "bob", "eats", "dies", "carol"]
    for name in ("alice", "bob", "carol"):
        assert by_name[name].status == "passed", name
    assert "deadline of 3 s" in by_name["sleeps"].refused
    assert "more than its limit of 400 MB" in by_name["eats"].refused
    assert by_name["dies"].status == "error" and "exited with code 3" in by_name["dies"].errors[0].message
    assert all(by_name[name].status == "error" for name in ("sleeps", "eats", "dies"))
    # Nothing the killed processes left stays behind, however deep, and no process either.
    assert list(tmp_path.iterdir()) == []
    # (The shared batch of the other tests may be grading meanwhile: this process's own children.)
    left = [" ".join(child.cmdline()) for child in psutil.Process().children()]
    assert not [command for command in left if "multiprocessing" in command], left


@pytest.mark.acceptance
def test_a_terminated_grading_run_leaves_nothing_behind(tmp_path):
    """SIGTERM (a cancelled CI job, `timeout`) while a kernel runs: the run stops its grading
    process and its kernel and deletes their folders. Killed outright, it left them in /tmp."""
    import shutil
    import signal
    import subprocess
    import sys
    from lab_submissions import ROOT
    (tmp_path / "subs").mkdir()
    shutil.copyfile(ROOT / NOTEBOOK_NAME, tmp_path / "subs" / "alice.ipynb")
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    grading = subprocess.Popen([sys.executable, "-m", "instructor", "grade", str(tmp_path / "subs"),
                                "--jobs", "1"], cwd=ROOT, env=dict(os.environ, TMPDIR=str(temporary)),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        waited = time.monotonic()
        while not list(temporary.glob("lab-grading-*/worker-0/*")):  # a kernel's folders
            assert grading.poll() is None, grading.stderr.read()
            assert time.monotonic() - waited < 300, "no kernel started in 300 s"
            time.sleep(0.2)
        grading.send_signal(signal.SIGTERM)
        assert grading.wait(timeout=120) == 128 + signal.SIGTERM
    finally:
        if grading.poll() is None:
            os.killpg(grading.pid, signal.SIGKILL)
    assert list(temporary.iterdir()) == []
    # Nothing of the run still runs (a zombie has ended: it waits for init to collect it).
    left = [p.info for p in psutil.process_iter(["pid", "status", "cmdline"])
            if p.pid != grading.pid and _session_of(p.pid) == grading.pid
            and p.info["status"] != psutil.STATUS_ZOMBIE]
    assert left == []


def _session_of(pid):
    try:
        return os.getsid(pid)
    except OSError:
        return None


def test_each_grading_run_draws_its_own_secret(monkeypatch):
    monkeypatch.delenv(pool.SECRET_VARIABLE, raising=False)
    assert pool.grading_secret() != pool.grading_secret()
    monkeypatch.setenv(pool.SECRET_VARIABLE, "fixed")
    assert pool.grading_secret() == pool.grading_secret() == b"fixed"


# --- the command line and discovery --------------------------------------------------------------

@pytest.mark.parametrize("option, value", [("--memory-limit", "100"), ("--disk-limit", "5"),
                                           ("--cpu-limit", "0"), ("--jobs", "0"),
                                           ("--deadline", "0"), ("--grader-memory-limit", "10")])
def test_limits_out_of_range_are_refused_with_their_bounds(tmp_path, capsys, option, value):
    with pytest.raises(SystemExit) as stopped:
        main(["grade", str(tmp_path), option, value])
    error = capsys.readouterr().err
    assert stopped.value.code == 2 and option in error
    assert "--disk-limit at least 10 (MB" in error and "--memory-limit at least 500" in error


def test_bad_paths_get_clear_messages(tmp_path, capsys):
    assert main(["grade", str(tmp_path / "nowhere"), "--no-sandbox"]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    text = tmp_path / "notes.txt"
    text.write_text("x")
    main(["grade", str(text), "--no-sandbox"])
    assert "not a notebook" in capsys.readouterr().err
    main(["grade", str(tmp_path), "--no-sandbox"])
    assert "no notebook found" in capsys.readouterr().err


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


def test_links_are_never_followed_and_the_linked_classmate_keeps_a_record(tmp_path):
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / NOTEBOOK_NAME).write_text("{}")
    (tmp_path / "bob").mkdir()
    (tmp_path / "bob" / NOTEBOOK_NAME).symlink_to(tmp_path / "alice" / NOTEBOOK_NAME)
    (tmp_path / "carol.ipynb").symlink_to("/etc/hostname")
    (tmp_path / "dave").symlink_to(tmp_path / "alice")
    found = {s.name: s for s in find_submissions([tmp_path])}
    assert set(found) == {"alice", "bob", "carol", "dave"}
    assert found["alice"].problem == ""
    for name in ("bob", "carol", "dave"):
        assert "a link to" in found[name].problem and "submit the notebook itself" in found[name].problem


def test_look_alike_names_are_told_apart():
    from instructor.grading.submissions import _told_apart
    assert _told_apart(["bob", "b\u043eb", "alice", "al\u200bice", "josé"]) == [
        "bob", "b\u043eb [U+043E]", "alice", "al\u200bice [U+200B]", "josé"]


def test_every_public_check_runs_before_the_first_hidden_input_enters_the_kernel(monkeypatch):
    """What students see quotes what their code raised: made after a hidden input entered the
    kernel, it could carry that input out in the feedback (the red team did, through the
    optional challenge's message). So the grader calls in two phases."""
    from instructor.grading import exercises, grade
    calls = []

    class Session:
        alive = True
        run = None

    monkeypatch.setattr(exercises, "public_phase",
                        lambda item, session: calls.append(("public", item.id)) or ("passed", "", None))
    monkeypatch.setattr(exercises, "read_architecture",
                        lambda item, session: calls.append(("model", item.id)) or {})
    monkeypatch.setattr(exercises, "function_result",
                        lambda item, *args: calls.append(("hidden", item.id))
                        or ExerciseResult.make(item.id, "passed", "passed"))
    record = SubmissionRecord("alice", "alice.ipynb")
    grade._judge_in_kernel(Session(), record, {}, b"secret")
    first_hidden = [kind for kind, _ in calls].index("hidden")
    assert {kind for kind, _ in calls[:first_hidden]} == {"public", "model"}
    assert all(kind == "hidden" for kind, _ in calls[first_hidden:])
    assert len(calls) == len(spec.EXERCISES) + len([e for e in spec.EXERCISES if e.kind != "model"])
