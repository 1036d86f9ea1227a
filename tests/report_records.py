"""Grading records for the report, feedback and export tests, built in the shape the grader
writes (instructor/grade.py), with facts from the lab spec. No kernel runs."""
import copy
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the instructor package

from instructor import spec  # noqa: E402

# What a hidden check reports to the instructor: it names a hidden input and values from it.
HIDDEN_FAILURE = "hidden input 8 (shape (9,), int64): a[3] = 0.0417, expected 0.2917"
ESCAPED = "boom\x1b[31m RED\x1b[0m \x1b]0;owned title\x07 \x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\\rall good"


def exercise_result(exercise, passed, message, public="", hidden=()):
    return {"exercise": exercise.id, "title": exercise.title,
            "points": exercise.points if passed else 0, "max_points": exercise.points,
            "passed": passed, "message": message, "public_check": public,
            "hidden_failures": list(hidden)}


def record(name="alice", status="passed", exercises=None, findings=(), errors=()):
    """A record; ``exercises`` maps ids to results (default: every exercise passed)."""
    results = {item.id: exercise_result(item, True, f"{item.check_function}: All tests passed!",
                                        f"{item.check_function}: All tests passed!")
               for item in spec.EXERCISES}
    results.update(exercises or {})
    return {"name": name, "notebook": f"submissions/{name}.ipynb", "folder": None,
            "status": status, "score": sum(r["points"] for r in results.values()),
            "max_score": spec.MAX_SCORE, "exercises": results, "findings": list(findings),
            "errors": list(errors), "timings": {"total": 1.5}, "sandboxed": True}


def hidden_failure_record(name="bob"):
    """Exercise 1 passes its public check and fails a hidden one."""
    ex1 = spec.exercise("exercise_1")
    public = "test_my_softmax: All tests passed!"
    return record(name, "failed", {ex1.id: exercise_result(ex1, False, HIDDEN_FAILURE, public,
                                                           [HIDDEN_FAILURE])})


def escaped_record(name="mallory"):
    """Student text full of terminal escapes and a carriage return, in every place it reaches."""
    ex1 = spec.exercise("exercise_1")
    return record(name + "\x1b[2J", "tampering",
                  {ex1.id: exercise_result(ex1, False, f"test_my_softmax failed: {ESCAPED}",
                                           f"test_my_softmax failed: {ESCAPED}")},
                  findings=[{"kind": "check_cell_edited", "severity": "tampering",
                             "message": f"the check cell was edited: found `{ESCAPED}`",
                             "cell": 12, "exercise": ex1.id},
                            {"kind": "outputs_edited", "severity": "warning",
                             "message": "stored outputs differ in cell 3 (instructor only)",
                             "cell": 3, "exercise": None}],
                  errors=[{"cell": 33, "status": "error", "graded_cell": None,
                           "source": f"raise ValueError('{ESCAPED}')",
                           "message": f"ValueError: {ESCAPED} <script>alert(1)</script>"}])


def copy_of(value):
    return copy.deepcopy(value)
