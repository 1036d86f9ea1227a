"""Student text in every report: free of terminal control characters and escape sequences, and
unable to forge a line, a heading, HTML or a code span: report.txt, report.md, report.html,
report.json, the feedback files and Gradescope's results.json.
"""
import json
import re

import pytest

from report_records import ESCAPED, escaped_record, exercise_result, record, report
from instructor.exports.gradescope_run import results_document
from instructor.grading.record import MAX_TEXT, CellError
from instructor.lab import spec
from instructor.reports import write_reports
from instructor.reports.clean_text import clean, clean_value, markdown, one_line
from instructor.reports.feedback import feedback_html, feedback_markdown
from instructor.reports.html import format_html
from instructor.reports.text import format_markdown, format_text

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# A file or folder name may hold a line break, Markdown and HTML: this one forges a report line.
FORGER = "eve\n## victim: passed, 100/100\n<img src=x onerror=alert(1)>`code`"


@pytest.mark.parametrize("raw, expected", [
    ("\x1b[31mred\x1b[0m", "red"),
    ("\x1b[38;5;196mbright\x1b[m", "bright"),
    ("\x1b]0;window title\x07after", "after"),
    ("\x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\", "link"),
    ("passed\rTAMPERING", "passed\nTAMPERING"),
    ("a\r\nb", "a\nb"),
    ("bell\x07 null\x00 del\x7f csi8\x9b2J", "bell null del csi8"),
    ("left\u202eright", "leftright"),
    ("tab\tand\nnewline stay", "tab\tand\nnewline stay"),
    ("\x1b", ""),
])
def test_clean_removes_escapes_and_controls(raw, expected):
    assert clean(raw) == expected


def test_clean_value_cleans_every_string_keys_included():
    cleaned = clean_value({"n\x1b[1m": ["a\rb", {"k": "\x1b]0;t\x07v"}], "x": 3, "y": None})
    assert cleaned == {"n": ["a\nb", {"k": "v"}], "x": 3, "y": None}


def test_one_line_and_markdown_forge_nothing():
    assert one_line(FORGER) == ("eve\\n## victim: passed, 100/100\\n<img src=x onerror=alert(1)>"
                                "`code`")
    shown = markdown(FORGER)
    assert "\n" not in shown and "<img" not in shown and "&lt;img" in shown
    assert "\\`code\\`" in shown  # no code span (and no heading: the line is not its own)


def _assert_clean(text, where):
    assert "\x1b" not in text, f"{where}: an escape sequence is left"
    assert not CONTROL.search(text.replace("\n", "").replace("\t", "")), f"{where}: a control " \
        f"character is left: {CONTROL.search(text.replace(chr(10), '').replace(chr(9), ''))!r}"
    assert "owned title" not in text and "evil.example" not in text, where


def test_every_report_is_free_of_escapes(tmp_path):
    paths = write_reports(report([record(), escaped_record()]), tmp_path)
    for kind, path in paths.items():
        text = path.read_text(encoding="utf-8")
        if kind == "json":
            text = json.dumps(json.loads(text), ensure_ascii=False)
        _assert_clean(text, kind)
        assert "all good" in text, f"{kind}: the text after the carriage return is dropped"
    document = json.loads(paths["json"].read_text())
    assert document["submissions"][1]["name"] == "mallory"
    error = document["submissions"][1]["errors"][0]["message"]
    assert error == "ValueError: boom RED  link\nall good <script>alert(1)</script>"


def test_a_name_cannot_forge_a_line_of_a_report(tmp_path):
    ex1 = spec.exercise("exercise_1")
    eve = record(FORGER, {ex1.id: exercise_result(ex1, False, "wrong <b>bold</b> `x`", "wrong")})
    paths = write_reports(report([eve]), tmp_path)
    for kind in ("text", "markdown"):
        lines = paths[kind].read_text().splitlines()
        assert not any(line.lstrip("#- ").startswith("victim") for line in lines), kind
    md = paths["markdown"].read_text()
    assert "<b>" not in md and "<img" not in md and "&lt;b&gt;" in md
    assert not re.search(r"^#+ victim", md, re.M)
    page = paths["html"].read_text()
    assert "<img src=x" not in page and "&lt;img src=x" in page


def test_feedback_and_gradescope_results_are_free_of_escapes():
    mallory = escaped_record()
    _assert_clean(feedback_markdown(mallory), "feedback markdown")
    _assert_clean(feedback_html(mallory), "feedback html")
    _assert_clean(json.dumps(results_document(mallory, "", 1.0), ensure_ascii=False),
                  "results.json")
    assert "<script>" not in feedback_markdown(record(FORGER))


def test_the_grader_records_are_left_as_they_were():
    mallory = escaped_record()
    format_text(report([mallory]))
    format_html(report([mallory]))
    assert ESCAPED in mallory.errors[0].message  # the reports clean copies


def test_reports_say_which_records_were_not_isolated():
    isolated, exposed = record("alice"), record("bob", isolation="none")
    text = format_text(report([isolated, exposed]))
    assert text.splitlines()[0].endswith("NOT ISOLATED (--no-sandbox): bob")
    assert "bob: passed, 100/100 (submissions/bob.ipynb) [isolation: none]" in text
    assert "alice: passed, 100/100 (submissions/alice.ipynb)\n" in text
    assert "NOT ISOLATED (--no-sandbox): every submission" in format_markdown(report([exposed]))
    assert "NOT ISOLATED" not in format_text(report([isolated]))


def test_unicode_line_separators_count_as_line_breaks():
    from instructor.reports.clean_text import clean, one_line
    for separator in ("\u2028", "\u2029", "\x85"):
        assert clean(f"passed{separator}## bob: 100/100") == "passed\n## bob: 100/100"
        assert one_line(f"alice{separator}bob") == "alice\\nbob"


def test_lone_surrogates_print_and_write_everywhere(tmp_path, capsys):
    """A file name that is not UTF-8 becomes "mallory\\udcff" in Python, and a kernel can send
    "\\ud800" in an error: printing report.txt raised UnicodeEncodeError, and no report or
    feedback was written for anyone (a red team)."""
    ex1 = spec.exercise("exercise_1")
    mallory = record("mallory\udcff", {ex1.id: exercise_result(ex1, False, "bad \ud800 value")},
                     errors=[CellError(3, "error", "ValueError: \ud800 oops")])
    paths = write_reports(report([record(), mallory]), tmp_path)
    print(format_text(report([mallory])))  # the grade command prints report.txt
    assert "mallory\\xff" in capsys.readouterr().out
    for kind, path in paths.items():
        text = path.read_text(encoding="utf-8")
        assert "mallory" in text and "\ufffd" in (text if kind != "json" else
                                                  json.dumps(json.loads(text), ensure_ascii=False)), kind
    assert feedback_html(mallory) and feedback_markdown(mallory)
    assert clean("a\udcffb\ud800c") == "a\\xffb\ufffdc"


def test_a_records_texts_are_capped_whatever_the_submission_sent():
    """Uncapped, 50 errors of 10,000,000 characters took the supervisor to 6.3 GB and wrote a
    3 GB report.json (a red team)."""
    ex1 = spec.exercise("exercise_1")
    huge = "\u00e9" * 1_000_000
    big = record("mallory", {ex1.id: exercise_result(ex1, False, huge, huge, [huge] * 500)},
                 errors=[CellError(i, "error", huge, source=huge) for i in range(2000)])
    big.finish()
    assert len(big.errors) == 600
    texts = [big.exercises[ex1.id].message, big.exercises[ex1.id].public_check,
             *big.exercises[ex1.id].hidden_failures, *(e.message for e in big.errors)]
    assert max(map(len, texts)) < MAX_TEXT + 100
    assert texts[0].endswith(f"[{1_000_000 - MAX_TEXT:,} more characters cut by the grader]")
    assert len(json.dumps(big.to_json(), ensure_ascii=False)) < 6_000_000  # was 4 billion


def test_hiding_the_graders_folders_is_linear_in_the_texts_length():
    """The pattern that hid the grader's folders backtracked quadratically: 60,000 slashes in
    an error message took 39 s per feedback file. No time is asserted: the texts below are 100
    times longer than the 10,000 characters that took a second, so a quadratic pattern would
    not return within the test run."""
    from instructor.reports.feedback import _student_text
    assert _student_text("at /tmp/x/grade-work-ab12/autils.py, line 3") == "at <grader folder> line 3"
    assert _student_text("see file:/a/grade-private-x9/s.py") == "see file:<grader folder>"
    for text in ("/" * 1_000_000, "/grade-work" * 100_000):
        assert _student_text(text) == text  # returns at all: quadratic would take hours
