"""What Gradescope's ``run_autograder`` runs: ``python -m instructor.gradescope_run ROOT``.

Grades the notebook in ROOT/submission (ROOT is /autograder on Gradescope) with this grader and
writes ROOT/results/results.json in Gradescope's format: the total ``score``, one entry in
``tests`` per exercise of the lab spec (name, score, max_score, status, the student-facing
output, visibility), and a top-level ``output`` that says whether the kernel ran in the grader's
sandbox or with the container as its only isolation, plus any tampering findings. Student text
comes from :func:`instructor.feedback.student_view`: never the hidden inputs, never the
instructor-only details, no terminal escapes.

The sandbox is used where it starts. Gradescope's containers usually cannot create the user
namespaces it needs; there the notebook is graded without it, the container being the isolation
(one submission per container, thrown away afterwards), and results.json says so.
"""
import json
import sys
import time
import traceback
from dataclasses import fields, replace
from pathlib import Path

from instructor import NOTEBOOK_NAME, spec
from instructor.clean_text import clean_value
from instructor.feedback import student_view

# The GradeOptions field that turns the sandbox off (the grader's --no-sandbox).
SANDBOX_OPTION = "sandbox"


class NoNotebook(Exception):
    """The submission holds no notebook to grade, or several without the lab's own name."""


def find_notebook(submission_dir):
    """The notebook to grade: ``lab2_multiclass.ipynb`` anywhere in the upload, else its only
    ``.ipynb`` file.

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
    """(GradeOptions, sandboxed: bool, why not sandboxed: str)."""
    from instructor.grade import GradeOptions
    options = GradeOptions()
    try:
        from instructor.sandbox import availability
    except ImportError:
        return options, False, "this grader version has no sandbox"
    found = availability()
    if found.ok:
        return options, True, ""
    if SANDBOX_OPTION in {item.name for item in fields(GradeOptions)}:
        return replace(options, **{SANDBOX_OPTION: False}), False, found.reason
    # TODO(lead): the grader has a sandbox but no option to turn it off; grading will refuse.
    return options, False, found.reason


def isolation_text(sandboxed, reason):
    """The sentence results.json's output gives about isolation."""
    if sandboxed:
        return "Graded in the grader's sandbox (bubblewrap: no network, read-only system)."
    return (f"Graded without the grader's sandbox ({reason}); the Gradescope container, one per "
            f"submission, is the isolation.")


def results_document(record, sandboxed, reason, seconds):
    """Gradescope's results.json for one grading record (a dict)."""
    view = student_view(record)
    tests = []
    for number, item in enumerate(view["exercises"], start=1):
        lines = [f"{item['verdict']}" + (f": {item['message']}" if item["message"] else "")]
        if item["hint"]:
            lines.append(f"Hint: {item['hint']}")
        if item["optional"]:
            lines.append("Optional: it never costs points.")
        tests.append({"name": item["title"], "number": str(number),
                      "score": float(item["points"]), "max_score": float(item["max_points"]),
                      "status": "passed" if item["passed"] else "failed",
                      "output": "\n".join(lines), "visibility": "visible"})
    output = [isolation_text(sandboxed, reason), view["summary"]]
    if view["flagged"]:
        output += ["", "Flagged:"] + [f"- {text}" for text in view["flagged"]]
    if view["errors"]:
        output += ["", "Errors in your notebook:"] + [f"- {text}" for text in view["errors"]]
    return clean_value({"score": float(sum(test["score"] for test in tests)),
                        "execution_time": round(seconds),
                        "output": "\n".join(output), "visibility": "visible",
                        "stdout_visibility": "hidden", "tests": tests,
                        "extra_data": {"status": record.get("status"), "sandboxed": sandboxed}})


def failure_document(message, seconds):
    """results.json when nothing could be graded: every exercise at 0, and why."""
    tests = [{"name": item.title, "number": str(number), "score": 0.0,
              "max_score": float(item.points), "status": "failed", "output": f"not graded: {message}",
              "visibility": "visible"} for number, item in enumerate(spec.EXERCISES, start=1)]
    return clean_value({"score": 0.0, "execution_time": round(seconds), "output": message,
                        "visibility": "visible", "stdout_visibility": "hidden", "tests": tests})


def run(root):
    """Grade ROOT/submission, write ROOT/results/results.json; returns the document."""
    from instructor.grade import grade_all
    from instructor.submissions import Submission

    started = time.monotonic()
    root = Path(root)
    results = root / "results" / "results.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    try:
        notebook = find_notebook(root / "submission")
        options, sandboxed, reason = grading_plan()
        [record] = grade_all([Submission("submission", notebook, root / "submission")],
                             options, jobs=1)
        sandboxed = record.get("sandboxed", sandboxed) is True
        document = results_document(record, sandboxed, reason or "the sandbox did not run",
                                    time.monotonic() - started)
        print(json.dumps(clean_value(record), indent=2, default=str))  # the instructor's stdout
    except NoNotebook as error:
        document = failure_document(str(error), time.monotonic() - started)
    except Exception as error:  # results.json must exist, or Gradescope shows a bare failure
        traceback.print_exc()
        document = failure_document(f"the autograder failed ({type(error).__name__}); your "
                                    f"teacher can see the details", time.monotonic() - started)
    results.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return document


if __name__ == "__main__":
    run(sys.argv[1] if len(sys.argv) > 1 else "/autograder")
