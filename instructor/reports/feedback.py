"""Feedback for each student: ``grade --feedback-dir DIR`` writes DIR/<name>.md and .html.

What a student may see of their record (:func:`student_view`): each exercise's points and a
student-facing message with its hint, what was flagged (each tampering finding, explained by the
text the registry gives its kind: it changed no mark), and the errors their cells raised. Never
shown: the hidden checks' inputs or their instructor-facing messages (a failed hidden check is
described by what it checks, not by its values), warnings (for the instructor to judge), the
grader's folders, tracebacks of the grader itself, timings. All text is cleaned of terminal
escapes, and escaped in the HTML and the Markdown.
"""
import html
import re
from pathlib import Path

from instructor.findings.registry import KINDS, TAMPERING
from instructor.grading.record import file_stem
from instructor.lab import spec
from instructor.reports.clean_text import clean, markdown

# A failed hidden check, described by what it tries (never by its inputs or values).
HIDDEN_CHECK_MESSAGES = {
    "softmax": "Your function passes the public check but not all of the grader's hidden checks "
               "({count} failed). They call it on other inputs of the kinds the exercise names "
               "(other sizes, values far from 0, integer and float32 arrays) and expect "
               "probabilities that add up to 1, as floats, without changing the input array.",
    "cross_entropy": "Your function passes the public check but not all of the grader's hidden "
                     "checks ({count} failed). They call it on other examples of the kinds the "
                     "check names (one class, ten classes, confident and right or wrong, logits "
                     "up to 1000, float32 and integer logits) and expect Keras's loss, without "
                     "changing the input array.",
    "model": "Your model passes the public check but not all of the grader's hidden checks "
             "({count} failed). They check the exact architecture the exercise asks for (layer "
             "sizes, activations, linear output, 400 inputs) and that the network, trained with "
             "the lab's settings, recognises at least 95% of the training digits.",
}
# What to try when a hidden check failed: the same kinds of input or model, found by the student.
HIDDEN_CHECK_HINTS = {
    "softmax": "call your function yourself on np.array([1, 2, 3]) (integers), on a float32 array, "
               "on a single value and on values near -300, and check each result against the "
               "formula; do not change z in place.",
    "cross_entropy": "call your function yourself on logits such as [1000, 1001, 1002], "
                     "[0, 0, -800] and integer arrays, and compare with "
                     "keras.losses.SparseCategoricalCrossentropy(from_logits=True).",
    "model": "compare your layers with the exercise (units, activations, a linear output layer, "
             "keras.Input(shape=(400,))) and run the training cell before the check.",
}
# The grader's private and working folders: they name nothing a student needs. Each word (a run
# without spaces or quotes) that holds one is cut from its first "/" on, found in one linear
# pass: a pattern that searched back for that "/" backtracked quadratically on a long word (an
# error message of 60,000 slashes took 39 s per feedback file).
_WORDS = re.compile(r"[^\s'\"`]+")
_GRADER_FOLDERS = ("/grade-private-", "/grade-work-")


def _hide_grader_folder(match):
    word = match.group()
    if not any(folder in word for folder in _GRADER_FOLDERS):
        return word
    return word[:word.index("/")] + "<grader folder>"
_STATUS = {
    "passed": "Every graded exercise passed.",
    "failed": "Some graded exercises did not pass yet; see below.",
    "error": "The grader could not grade this notebook; see below.",
}


def _student_text(text):
    return _WORDS.sub(_hide_grader_folder, clean(text))


def student_message(exercise_id, result):
    """The message a student may see for one exercise's result (an ExerciseResult).

    A failed hidden check is summed up by what the hidden checks try, from the lab spec's kind
    of exercise; its instructor-facing message (which names hidden inputs) is never returned.
    """
    message, public = result.message, result.public_check or ""
    from_public_check = bool(public) and message == public
    if not result.passed and not from_public_check and result.hidden_failures:
        kind = spec.exercise(exercise_id).kind if exercise_id in spec.BY_ID else ""
        template = HIDDEN_CHECK_MESSAGES.get(kind, "Your answer passes the public check but not "
                                                   "all of the grader's hidden checks ({count} "
                                                   "failed).")
        hint = HIDDEN_CHECK_HINTS.get(kind, "")
        return template.format(count=len(result.hidden_failures)) + (f" Hint: {hint}" if hint else "")
    return _student_text(message)


def _split_hint(message):
    """(message, hint): the public checks end a failure with "Hint: ..."."""
    # The last "Hint:": the checks' own comes after anything the student's code raised.
    head, marker, hint = message.rpartition("Hint:")
    return (head.strip(), hint.strip()) if marker else (message.strip(), "")


def student_view(record):
    """The part of a grading record (a SubmissionRecord) a student may see, as plain data.

    Returns:
      dict: name, status, summary, score, max_score, exercises (list of {id, title, optional,
      points, max_points, passed, verdict, message, hint}), flagged (list of strings: what was
      seen, and what it means for them), errors (list of strings).
    """
    exercises = []
    for item in spec.EXERCISES:
        result = record.exercises.get(item.id)
        if result is None:
            continue
        message, hint = _split_hint(student_message(item.id, result))
        if result.passed:
            verdict = "passed"
        elif result.status == "not attempted":
            verdict, message = "not attempted", ""
        elif result.status == "not graded":
            # Why the grader could not grade is for the instructor when the grader itself failed.
            verdict = "not graded"
            message = ("the grader failed on this notebook; your teacher has the details"
                       if message.startswith("grader error") else message)
        else:
            verdict = "not passed"
        if verdict == "not passed" and not hint:
            hint = (f"open the hints under {item.title} in the notebook, and run the check cell "
                    f"after your code to see what it says")
        exercises.append({"id": item.id, "title": item.title, "optional": item.optional,
                          "points": 0 if item.optional else result.points,
                          "max_points": item.points, "passed": result.passed,
                          "verdict": verdict, "message": message, "hint": hint})
    flagged = [f"{_student_text(finding.message)} ({KINDS[finding.kind].student_text})"
               for finding in record.findings if finding.severity == TAMPERING]
    errors = []
    for error in record.errors:
        if error.status == "grader error":
            errors.append("the grader itself failed on this notebook; your teacher has the details")
            continue
        where = f"cell {error.cell}" if error.cell is not None else "the notebook"
        source = f" (`{_student_text(error.source)}`)" if error.source else ""
        errors.append(f"{error.status} in {where}{source}: {_student_text(error.message)}")
    return {"name": clean(record.name), "status": record.status,
            "summary": _STATUS.get(record.status, _STATUS["error"]),
            "score": record.score, "max_score": record.max_score,
            "exercises": exercises, "flagged": flagged, "errors": errors}


def feedback_markdown(record):
    """One student's feedback as Markdown (every piece of text escaped)."""
    view = student_view(record)
    lines = [f"# Feedback: {markdown(view['name'])}", "",
             f"**Score: {view['score']}/{view['max_score']}.** {markdown(view['summary'])}", "",
             "## Exercises", ""]
    for item in view["exercises"]:
        points = "optional" if item["optional"] else f"{item['points']}/{item['max_points']}"
        lines.append(f"- **{markdown(item['title'])}** ({points}): {item['verdict']}"
                     + (f". {markdown(item['message'])}" if item["message"] else ""))
        if item["hint"]:
            lines.append(f"  - Hint: {markdown(item['hint'])}")
    if view["flagged"]:
        lines += ["", "## Flagged", ""] + [f"- {markdown(text)}" for text in view["flagged"]]
    if view["errors"]:
        lines += ["", "## Errors in your notebook", ""] + [f"- {markdown(text)}"
                                                           for text in view["errors"]]
    return "\n".join(lines) + "\n"


def feedback_html(record):
    """One student's feedback as a standalone HTML page (every piece of text escaped)."""
    view = student_view(record)
    e = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>Feedback: {e(view['name'])}</title></head><body>",
             f"<h1>Feedback: {e(view['name'])}</h1>",
             f"<p><strong>Score: {view['score']}/{view['max_score']}.</strong> {e(view['summary'])}</p>",
             "<h2>Exercises</h2>", "<ul>"]
    for item in view["exercises"]:
        points = "optional" if item["optional"] else f"{item['points']}/{item['max_points']}"
        parts.append(f"<li><strong>{e(item['title'])}</strong> ({e(points)}): {e(item['verdict'])}"
                     + (f". {e(item['message'])}" if item["message"] else "")
                     + (f"<br>Hint: {e(item['hint'])}" if item["hint"] else "") + "</li>")
    parts.append("</ul>")
    for heading, texts in (("Flagged", view["flagged"]), ("Errors in your notebook", view["errors"])):
        if texts:
            parts += [f"<h2>{heading}</h2>", "<ul>"] + [f"<li>{e(text)}</li>" for text in texts] + ["</ul>"]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_feedback(records, feedback_dir):
    """Write <name>.md and <name>.html per record into ``feedback_dir``; returns the paths.
    File names are the names' safe characters, at most 80 of them
    (:func:`~instructor.grading.record.file_stem`): a 255-character folder name still fits."""
    feedback_dir = Path(feedback_dir)
    feedback_dir.mkdir(parents=True, exist_ok=True)
    written, taken = [], set()
    for record in records:
        stem = file_stem(clean(record.name), taken)
        for suffix, render in ((".md", feedback_markdown), (".html", feedback_html)):
            path = feedback_dir / f"{stem}{suffix}"
            path.write_text(render(record), encoding="utf-8")
            written.append(path)
    return written
