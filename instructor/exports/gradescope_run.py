"""What Gradescope's ``run_autograder`` runs: ``python -m instructor.exports.gradescope_run ROOT``.

Grades the notebook in ROOT/submission (ROOT is /autograder on Gradescope) and writes
ROOT/results/results.json in Gradescope's format: the total ``score``, one entry in ``tests``
per exercise of the lab spec (name, score, max_score, status, the student-facing output), and
a top-level ``output`` that says how the student's code was isolated and what was flagged.

Gradescope runs each upload as root in a container that usually cannot create user namespaces,
so the grader's sandbox rarely starts there. In that order, the kernel runs:

1. in the sandbox, where it starts;
2. else, as root, as the unprivileged user :data:`LAB_USER` (``setup.sh`` creates it): before
   the first cell ROOT/source (the grader, the hidden checks) and ROOT/results become readable
   by root alone, and every process of that user is killed before the results are written, so
   the student's code can neither read the grader nor rewrite its results, as Gradescope's own
   guidance asks;
3. else with no isolation but the container, and results.json says so.

results.json is written twice, each time whole (a temporary file renamed over it): a provisional
one before anything runs, saying the grading did not finish (what Gradescope shows if the
container is stopped for time or memory), and the real one last, by this process.
"""
import json
import os
import sys
import time
import traceback
from pathlib import Path

from instructor.engine import sandbox
from instructor.engine.unprivileged import UserUnavailable, kill_all, lookup
from instructor.grading.options import GradeOptions
from instructor.grading.pool import grade_all
from instructor.grading.submissions import Submission
from instructor.lab import spec
from instructor.lab.files import NOTEBOOK_NAME
from instructor.reports.clean_text import clean_value
from instructor.reports.feedback import student_view

LAB_USER = "lab-student"  # setup.sh creates it
# The autograder's own folders, readable by root alone while the student's code runs.
PRIVATE = ("source", "results")


class NoNotebook(Exception):
    """The submission holds no notebook to grade, or several without the lab's own name."""


def find_notebook(submission_dir):
    """The notebook to grade: ``lab2_multiclass.ipynb`` anywhere in the upload, else its only
    ``.ipynb`` file (links are not followed).

    Raises:
      NoNotebook: none, or several and none of them named as the lab's.
    """
    found = sorted(path for path in Path(submission_dir).rglob("*.ipynb")
                   if ".ipynb_checkpoints" not in path.parts and not path.name.startswith("."))
    named = [path for path in found if path.name == NOTEBOOK_NAME]
    if named:
        return named[0]
    if len(found) == 1:
        return found[0]
    if not found:
        raise NoNotebook(f"no notebook found in your submission: upload {NOTEBOOK_NAME}")
    raise NoNotebook(f"{len(found)} notebooks found in your submission "
                     f"({', '.join(path.name for path in found)}) and none is named "
                     f"{NOTEBOOK_NAME}: upload only your {NOTEBOOK_NAME}")


def grading_plan():
    """(GradeOptions, why the sandbox was not used: "" when it is). Gradescope's containers have
    little memory: no warm-up, so the grader holds TensorFlow once at a time."""
    found = sandbox.availability()
    if found.ok:
        return GradeOptions(warm_up=False), ""
    try:
        lookup(LAB_USER)
        return GradeOptions(isolation="user", run_as=LAB_USER, warm_up=False), found.reason
    except UserUnavailable as error:
        return GradeOptions(isolation="none", warm_up=False), f"{found.reason}; {error}"


def isolation_text(isolation, reason):
    """The sentence results.json's output gives about isolation."""
    if isolation == "sandbox":
        return "Graded in the grader's sandbox (bubblewrap: no network, read-only system)."
    if isolation.startswith("user "):
        return (f"Graded as the unprivileged {isolation} (the grader's sandbox cannot start "
                f"here): your code could not read the autograder's files or write its results, "
                f"and every process it started was stopped before the results were written.")
    return (f"Graded without isolation ({reason}); the Gradescope container, one per "
            f"submission, was the only isolation.")


def lock_down(root):
    """ROOT/source and ROOT/results readable and writable by root alone (when running as root:
    the kernel's user then cannot reach them); returns the folders changed."""
    changed = []
    if os.geteuid() != 0:
        return changed
    for name in PRIVATE:
        folder = Path(root) / name
        if folder.is_dir():
            os.chown(folder, 0, 0)
            os.chmod(folder, 0o700)
            changed.append(folder)
    return changed


def write_atomically(path, document):
    """Write ``document`` as JSON to ``path`` whole: a temporary file renamed over it."""
    temporary = Path(path).with_name(f".{Path(path).name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(document, indent=2), encoding="utf-8")
    os.replace(temporary, path)


def _tests(view_exercises=None, message=""):
    if view_exercises is None:
        return [{"name": item.title, "number": str(number), "score": 0.0,
                 "max_score": float(item.points), "status": "failed",
                 "output": f"not graded: {message}", "visibility": "visible"}
                for number, item in enumerate(spec.EXERCISES, start=1)]
    tests = []
    for number, item in enumerate(view_exercises, start=1):
        lines = [f"{item['verdict']}" + (f": {item['message']}" if item["message"] else "")]
        if item["hint"]:
            lines.append(f"Hint: {item['hint']}")
        if item["optional"]:
            lines.append("Optional: it never costs points.")
        tests.append({"name": item["title"], "number": str(number),
                      "score": float(item["points"]), "max_score": float(item["max_points"]),
                      "status": "passed" if item["passed"] else "failed",
                      "output": "\n".join(lines), "visibility": "visible"})
    return tests


def results_document(record, reason, seconds):
    """Gradescope's results.json for one grading record (a SubmissionRecord)."""
    view = student_view(record)
    tests = _tests(view["exercises"])
    output = [isolation_text(record.isolation, reason), view["summary"]]
    if view["flagged"]:
        output += ["", "Flagged for your teacher (your marks are unchanged):"] + [
            f"- {text}" for text in view["flagged"]]
    if view["errors"]:
        output += ["", "Errors in your notebook:"] + [f"- {text}" for text in view["errors"]]
    return clean_value({"score": float(sum(test["score"] for test in tests)),
                        "execution_time": round(seconds),
                        "output": "\n".join(output), "visibility": "visible",
                        "stdout_visibility": "hidden", "tests": tests,
                        "extra_data": {"status": record.status, "isolation": record.isolation,
                                       "flagged": record.flagged}})


def failure_document(message, seconds):
    """results.json when nothing could be graded: every exercise at 0, and why."""
    return clean_value({"score": 0.0, "execution_time": round(seconds), "output": message,
                        "visibility": "visible", "stdout_visibility": "hidden",
                        "tests": _tests(message=message)})


PROVISIONAL = ("The autograder started grading this notebook but did not finish: it was stopped, "
               "most likely by the autograder's time or memory limit. Your teacher can see the "
               "details.")


def run(root):
    """Grade ROOT/submission, write ROOT/results/results.json; returns the document."""
    started = time.monotonic()
    root = Path(root)
    results = root / "results" / "results.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(results, failure_document(PROVISIONAL, 0))
    options = None
    try:
        notebook = find_notebook(root / "submission")
        options, reason = grading_plan()
        lock_down(root)
        [record] = grade_all([Submission("submission", notebook, root / "submission")],
                             options, jobs=1)
        document = results_document(record, reason or "the sandbox did not run",
                                    time.monotonic() - started)
        print(json.dumps(clean_value(record.to_json()), indent=2))  # the instructor's stdout
    except NoNotebook as error:
        document = failure_document(str(error), time.monotonic() - started)
    except Exception as error:  # results.json must exist, or Gradescope shows a bare failure
        traceback.print_exc()
        document = failure_document(f"the autograder failed ({type(error).__name__}); your "
                                    f"teacher can see the details", time.monotonic() - started)
    finally:
        if options is not None and options.isolation == "user":
            kill_all(lookup(options.run_as))  # nothing of the student's runs past this line
    write_atomically(results, document)
    return document


if __name__ == "__main__":
    run(sys.argv[1] if len(sys.argv) > 1 else "/autograder")
    sys.stdout.flush()
    os._exit(0)  # skip TensorFlow's teardown: the results are written
