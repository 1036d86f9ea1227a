"""Student text in every report is free of terminal control characters and escape sequences
(issue 11): report.txt, report.md, report.json, the feedback files and Gradescope's results.json.
"""
import json
import re

import pytest

from report_records import ESCAPED, escaped_record, record
from instructor.clean_text import clean, clean_value
from instructor.feedback import feedback_html, feedback_markdown
from instructor.gradescope_run import results_document
from instructor.report import format_markdown, format_text, write_reports

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


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


def _assert_clean(text, where):
    assert "\x1b" not in text, f"{where}: an escape sequence is left"
    assert not CONTROL.search(text.replace("\n", "").replace("\t", "")), f"{where}: a control " \
        f"character is left: {CONTROL.search(text.replace(chr(10), '').replace(chr(9), ''))!r}"
    assert "owned title" not in text and "evil.example" not in text, where


def test_every_report_is_free_of_escapes(tmp_path):
    records = [record(), escaped_record()]
    paths = write_reports(records, tmp_path, 3.0, 1, {"cell_timeout": 120.0})
    for kind, path in paths.items():
        text = path.read_text(encoding="utf-8")
        _assert_clean(text if kind != "json" else json.dumps(json.loads(text), ensure_ascii=False),
                      kind)
        assert "all good" in text, f"{kind}: the text after the carriage return is dropped"
    for render in (format_text, format_markdown):
        _assert_clean(render(records, 3.0, 1), render.__name__)
    document = json.loads(paths["json"].read_text())
    assert document["submissions"][1]["name"] == "mallory"
    error = document["submissions"][1]["errors"][0]["message"]
    assert error == "ValueError: boom RED  link\nall good <script>alert(1)</script>"


def test_feedback_and_gradescope_results_are_free_of_escapes():
    mallory = escaped_record()
    _assert_clean(feedback_markdown(mallory), "feedback markdown")
    _assert_clean(feedback_html(mallory), "feedback html")
    _assert_clean(json.dumps(results_document(mallory, True, "", 1.0), ensure_ascii=False),
                  "results.json")


def test_the_grader_records_are_left_as_they_were():
    mallory = escaped_record()
    format_text([mallory], 1.0, 1)
    assert ESCAPED in mallory["errors"][0]["message"]  # the reports clean copies


def test_reports_say_which_records_were_not_sandboxed():
    sandboxed, unsandboxed = record("alice"), record("bob")
    unsandboxed["sandboxed"] = False
    text = format_text([sandboxed, unsandboxed], 3.0, 1)
    assert text.splitlines()[0].endswith("NOT SANDBOXED (--no-sandbox): bob")
    assert "bob: passed, 100/100 (submissions/bob.ipynb) [not sandboxed: --no-sandbox]" in text
    assert "alice: passed, 100/100 (submissions/alice.ipynb)\n" in text
    markdown = format_markdown([unsandboxed], 3.0, 1)
    assert "NOT SANDBOXED (--no-sandbox): every submission" in markdown
    assert "NOT SANDBOXED" not in format_text([sandboxed], 3.0, 1)
