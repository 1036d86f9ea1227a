"""Grading records for the report, feedback and export tests: typed records
(instructor.grading.record) with facts from the lab spec. No kernel runs."""
import copy
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the instructor package

from instructor.findings.registry import finding  # noqa: E402
from instructor.grading.record import (CellError, ExerciseResult, Report,  # noqa: E402
                                       SubmissionRecord, Timings)
from instructor.lab import spec  # noqa: E402

# What a hidden check reports to the instructor: it names a hidden input and values from it.
HIDDEN_FAILURE = "hidden input 8 (shape (9,), int64): a[3] = 0.0417, expected 0.2917"
ESCAPED = "boom\x1b[31m RED\x1b[0m \x1b]0;owned title\x07 \x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\\rall good"


def exercise_result(exercise, passed, message, public="", hidden=(), status=None):
    return ExerciseResult.make(exercise.id, status or ("passed" if passed else "failed"), message,
                               public, hidden, "ok")


def record(name="alice", exercises=None, findings=(), errors=(), isolation="sandbox"):
    """A finished record; ``exercises`` maps ids to results (default: every exercise passed)."""
    results = {item.id: exercise_result(item, True, f"{item.check_function}: All tests passed!",
                                        f"{item.check_function}: All tests passed!")
               for item in spec.EXERCISES}
    results.update(exercises or {})
    made = SubmissionRecord(name, f"submissions/{name}.ipynb", None, exercises=results,
                            findings=list(findings), errors=list(errors),
                            timings=Timings(total=1.5), isolation=isolation)
    return made.finish()


def report(records, seconds=3.0, options=None, **extra):
    return Report("2026-12-06T10:00:00+0000", seconds, 1, options or {"cell_timeout": 120.0},
                  list(records), **extra)


def hidden_failure_record(name="bob"):
    """Exercise 1 passes its public check and fails a hidden one."""
    ex1 = spec.exercise("exercise_1")
    public = "test_my_softmax: All tests passed!"
    return record(name, {ex1.id: exercise_result(ex1, False, HIDDEN_FAILURE, public,
                                                 [HIDDEN_FAILURE])})


def escaped_record(name="mallory"):
    """Student text full of terminal escapes and a carriage return, in every place it reaches."""
    ex1 = spec.exercise("exercise_1")
    return record(name + "\x1b[2J",
                  {ex1.id: exercise_result(ex1, False, f"test_my_softmax failed: {ESCAPED}",
                                           f"test_my_softmax failed: {ESCAPED}")},
                  findings=[finding("check_cell_edited", f"the check cell was edited: found "
                                                         f"`{ESCAPED}`", 12, ex1.id),
                            finding("outputs_edited", "stored outputs differ in cell 3 "
                                                      "(instructor only)", 3)],
                  errors=[CellError(33, "error", f"ValueError: {ESCAPED} <script>alert(1)</script>",
                                    None, f"raise ValueError('{ESCAPED}')")])


def copy_of(value):
    return copy.deepcopy(value)
