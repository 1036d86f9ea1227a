"""Makes `python -m pytest` (nbval) say which exercise failed, not only which cell.

nbval reports failures by cell number. The graded cells of the lab carry
``metadata.lab = {"exercise": ..., "role": "solution" | "check"}``; this file adds, at the end of
the run, one line per exercise: passed, FAILED (with the check's message), or not reached.
It only reports: it changes nothing in how the notebook is run or compared.
"""
import re

import pytest

TITLES = {"exercise_1": "Exercise 1 (my_softmax)",
          "exercise_2": "Exercise 2 (model)",
          "challenge_stable_softmax": "Optional challenge (my_softmax_stable)"}
_outcomes = {}


def _lab(item):
    cell = getattr(item, "cell", None)  # nbval's notebook-cell items keep their cell here
    metadata = getattr(cell, "metadata", None) or {}
    lab = metadata.get("lab", {}) if hasattr(metadata, "get") else {}
    return lab if isinstance(lab, dict) else {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    lab = _lab(item)
    exercise = lab.get("exercise")
    if not exercise or report.when != "call":
        return
    if report.failed:
        _outcomes[exercise] = (f"FAILED in its {lab.get('role', 'graded')} cell: "
                               f"{_last_error_line(report)}")
    elif not _outcomes.get(exercise, "").startswith("FAILED"):
        _outcomes[exercise] = "passed"


def _last_error_line(report):
    """The most telling line of an nbval failure: the exception line of the cell's traceback."""
    text = str(report.longrepr)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in reversed(lines):
        plain = _strip_colours(line)
        if plain.split(":", 1)[0].endswith(("Error", "Exception")):
            return plain[:400]
    return _strip_colours(lines[-1])[:400] if lines else "see above"


def _strip_colours(text):
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def pytest_terminal_summary(terminalreporter):
    if not _outcomes:  # no graded cell ran (another notebook, or nothing collected)
        return
    terminalreporter.section("lab exercises")
    for exercise, title in TITLES.items():
        terminalreporter.write_line(f"{title}: {_outcomes.get(exercise, 'not reached')}")
