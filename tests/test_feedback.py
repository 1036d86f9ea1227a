"""Per-student feedback (`grade --feedback-dir DIR`): points, messages and hints for each
exercise, the findings a student should see, never the hidden inputs or instructor-only details.
"""
import html

import nbformat
import pytest

from report_records import (HIDDEN_FAILURE, escaped_record, exercise_result,
                            hidden_failure_record, record)
from instructor.__main__ import main
from instructor.grading.hidden_checks import softmax_inputs
from instructor.grading.record import CellError, file_stem, unique_stem
from instructor.lab import spec
from instructor.reports.clean_text import markdown
from instructor.reports.feedback import (feedback_html, feedback_markdown, student_message,
                                         student_view, write_feedback)


def test_feedback_gives_each_exercise_its_points_and_message():
    text = feedback_markdown(record())
    assert f"**Score: {spec.MAX_SCORE}/{spec.MAX_SCORE}.**" in text
    for item in spec.GRADED:
        assert f"**{markdown(item.title)}** ({item.points}/{item.points}): passed" in text
    for item in spec.OPTIONAL:
        assert f"**{markdown(item.title)}** (optional): passed" in text


def test_a_failed_public_check_shows_its_message_and_hint():
    ex1 = spec.exercise("exercise_1")
    message = ("test_my_softmax failed: your probabilities add up to 8.4791, not 1. "
               "Hint: divide np.exp(z) by the sum of np.exp(z).")
    view = student_view(record("bob", {ex1.id: exercise_result(ex1, False, message, message)}))
    [first] = [item for item in view["exercises"] if item["id"] == ex1.id]
    assert (first["points"], first["verdict"]) == (0, "not passed")
    assert first["message"] == "test_my_softmax failed: your probabilities add up to 8.4791, not 1."
    assert first["hint"] == "divide np.exp(z) by the sum of np.exp(z)."


def test_a_failed_hidden_check_never_shows_its_inputs():
    bob = hidden_failure_record()
    for text in (feedback_markdown(bob), feedback_html(bob)):
        assert HIDDEN_FAILURE not in text and "hidden input" not in text
        assert "0.2917" not in text and "0.0417" not in text
        assert "hidden checks (1 failed)" in text
    values = {f"{value:.4g}" for array in softmax_inputs(12345) if array.dtype.kind == "f"
              for value in array.ravel()[:3]}
    values = {value for value in values if len(value) >= 5}  # 4 digits and a point at least
    page = feedback_markdown(bob) + feedback_html(bob)
    assert not [value for value in values if value in page]


def test_hidden_failures_are_hidden_even_when_only_the_message_names_them():
    ex2 = spec.exercise("exercise_2")
    result = exercise_result(ex2, False, "hidden: layer 3 is Dense(10, softmax), expected "
                                         "Dense(10, linear)", "test_model: All tests passed!",
                             ["hidden: layer 3 is Dense(10, softmax), expected Dense(10, linear)"])
    assert "Dense(10, linear)" not in student_message(ex2.id, result)
    assert "architecture" in student_message(ex2.id, result)


def test_students_see_what_was_flagged_but_not_warnings_tracebacks_or_grader_folders():
    mallory = escaped_record()
    mallory.errors.append(CellError(None, "grader error", "KeyError: 'x'",
                                    traceback="Traceback (most recent ...)"))
    ex2 = spec.exercise("exercise_2")
    mallory.exercises[ex2.id] = exercise_result(
        ex2, False, "the kernel stopped (/tmp/grade-work-abc123/x.json)", status="not graded")
    view = student_view(mallory)
    assert len(view["flagged"]) == 1 and "check cell was edited" in view["flagged"][0]
    assert "does not change your marks" in view["flagged"][0]  # the registry's student text
    page = feedback_markdown(mallory) + feedback_html(mallory)
    assert "instructor only" not in page  # the warning
    assert "Traceback" not in page and "KeyError" not in page
    assert "grade-work" not in page and "grader folder" in page
    assert "the grader itself failed" in page


def test_html_feedback_escapes_student_text():
    page = feedback_html(escaped_record())
    assert "<script>" not in page
    assert html.escape("<script>alert(1)</script>") in page


@pytest.mark.parametrize("name, expected", [("alice", "alice"), ("../../etc/passwd", "etc_passwd"),
                                            ("bob smith", "bob_smith"), ("\x1b[2J", "2J")])
def test_feedback_file_names_are_safe(name, expected):
    assert file_stem(name, set()) == expected


def test_a_255_character_name_still_gets_its_feedback(tmp_path):
    long_name = "x" * 255
    paths = write_feedback([record(long_name), record("x" * 254 + "y")], tmp_path)
    assert len(paths) == 4 and all(len(path.name) <= 100 for path in paths)
    assert len({path.stem for path in paths}) == 2  # two students, two names


def test_write_feedback_keeps_every_student_apart(tmp_path):
    paths = write_feedback([record("Alice"), record("alice"), hidden_failure_record()], tmp_path)
    assert sorted(p.name for p in paths) == ["Alice.html", "Alice.md", "alice-2.html",
                                             "alice-2.md", "bob.html", "bob.md"]


def test_grade_feedback_dir_writes_one_file_per_student(tmp_path, capsys):
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    (submissions / "carol.ipynb").write_text("{ not json")
    nbformat.write(nbformat.v4.new_notebook(), submissions / "dave.ipynb")
    (submissions / "dave.ipynb").write_text('{"nbformat": 3, "cells": []}')
    code = main(["grade", str(submissions), "--jobs", "1", "--feedback-dir", str(tmp_path / "fb"),
                 "--report-dir", str(tmp_path / "report"), *_no_sandbox()])
    out = capsys.readouterr().out
    assert code == 1, out
    assert sorted(p.name for p in (tmp_path / "fb").iterdir()) == ["carol.html", "carol.md",
                                                                  "dave.html", "dave.md"]
    carol = (tmp_path / "fb" / "carol.md").read_text()
    assert "**Score: 0/100.**" in carol and "could not be read" in carol
    assert "Feedback: 4 files" in out


def _no_sandbox():
    """Unreadable notebooks never start a kernel: no isolation is needed to grade them, and the
    test then runs on machines without user namespaces too."""
    return ["--no-sandbox"]


def test_kept_runs_of_two_names_with_the_same_safe_characters_stay_apart():
    # --keep-executed: "a b" and "a_b" both wrote a_b.ipynb, one overwriting the other (a red
    # team); each grading process names its file without knowing the others' names.
    stems = {name: unique_stem(name) for name in ("a b", "a_b", "a/b", "x" * 255, "m\udcff")}
    assert len(set(stems.values())) == len(stems)
    assert stems["a b"].startswith("a_b-") and all(len(stem) <= 80 for stem in stems.values())
    assert unique_stem("a b") == stems["a b"]  # the same name, the same file, in any process
