"""Makes `python -m pytest` (nbval) say which exercise failed, not only which cell.

nbval names notebook cells "Cell N", counting code cells only and from 0: "Cell N" is the code
cell that shows [N+1] after Kernel > Restart Kernel and Run All Cells. The graded cells carry
``metadata.lab = {"exercise": ..., "role": "solution" | "check"}``; this file adds the exercise
and its role to each failing cell's report, and at the end one line per exercise: passed, FAILED
(in which cell, with the check's message), or not reached. It only reports: it changes nothing
in how the notebook is run or compared.

The CI workflow also runs it as a script, once per exercise, to give each exercise its own
points: ``python -m pytest ... --lab-results=FILE`` writes each exercise's outcome to FILE, and
``python conftest.py EXERCISE_ID FILE`` passes when that exercise's check cell ran without an
error.
"""
import json
import re
import sys

import pytest

# (id, title) of each exercise, written from the lab spec when the lab is released.
EXERCISES = []
EXECUTED_WITHOUT_ERROR = ("Cell outputs differ", "Unrun reference cell has outputs")
_outcomes = {}


def pytest_addoption(parser):
    parser.addoption("--lab-results", default=None, metavar="FILE",
                     help="write each exercise's outcome to FILE (JSON), for the CI workflow")


def _lab(item):
    cell = getattr(item, "cell", None)  # nbval's notebook-cell items keep their cell here
    metadata = getattr(cell, "metadata", None) or {}
    lab = metadata.get("lab", {}) if hasattr(metadata, "get") else {}
    return lab if isinstance(lab, dict) else {}


def _title(exercise):
    return dict(EXERCISES).get(exercise, exercise)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    lab = _lab(item)
    exercise = lab.get("exercise")
    if not exercise or report.when != "call":
        return
    role = lab.get("role", "graded")
    cell = getattr(item, "cell_num", None)
    where = f"its {role} cell (nbval Cell {cell}, shown as [{cell + 1}] after Run All)" \
        if isinstance(cell, int) else f"its {role} cell"
    state = _outcomes.setdefault(exercise, {"status": "passed", "message": "", "check_ran": None})
    error = str(call.excinfo.value) if call.excinfo is not None else ""
    if role == "check":
        state["check_ran"] = report.passed or error in EXECUTED_WITHOUT_ERROR
    if report.failed:
        report.sections.append(("lab exercise", f"Cell {cell} is {_title(exercise)}, {role} cell"))
        if state["status"] != "FAILED":
            state["status"] = "FAILED"
            state["message"] = f"in {where}: {_last_error_line(report)}"


def _last_error_line(report):
    """The most telling line of an nbval failure: the exception line of the cell's traceback."""
    text = str(report.longrepr)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in reversed(lines):
        plain = _strip_colours(line)
        if plain.split(":", 1)[0].endswith(("Error", "Exception")):
            return plain[:400]
    if "Cell outputs differ" in text:
        return "Cell outputs differ (the output stored in the notebook is not what a fresh run " \
               "prints: run the whole notebook again, then save)"
    return _strip_colours(lines[-1])[:400] if lines else "see above"


def _strip_colours(text):
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def _line(exercise):
    state = _outcomes.get(exercise)
    if state is None:
        return f"{_title(exercise)}: not reached"
    if state["status"] == "passed":
        return f"{_title(exercise)}: passed"
    return f"{_title(exercise)}: FAILED {state['message']}"


def pytest_terminal_summary(terminalreporter):
    if not _outcomes:  # no graded cell ran (another notebook, or nothing collected)
        return
    terminalreporter.section("lab exercises")
    for exercise, _ in EXERCISES:
        terminalreporter.write_line(_line(exercise))


def pytest_sessionfinish(session):
    path = session.config.getoption("--lab-results", None)
    if path:
        results = {exercise: dict(_outcomes.get(exercise, {"status": "not reached",
                                                           "message": "", "check_ran": False}),
                                  title=title, summary=_line(exercise))
                   for exercise, title in EXERCISES}
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=2)


def exercise_verdict(exercise, path):
    """0 when the exercise's check cell ran without an error in the run that wrote ``path``."""
    if exercise not in dict(EXERCISES):
        print(f"unknown exercise {exercise!r}; the exercises are "
              f"{', '.join(item for item, _ in EXERCISES)}")
        return 2
    try:
        with open(path, encoding="utf-8") as handle:
            state = json.load(handle)[exercise]
    except (OSError, ValueError, KeyError) as error:
        print(f"{_title(exercise)}: no result ({error}); the notebook check "
              f"(python -m pytest --lab-results={path}) did not finish")
        return 1
    if state.get("check_ran") and state.get("status") != "passed":
        print(f"{_title(exercise)}: its check passed; elsewhere in the notebook: {state['summary']}")
    else:
        print(state["summary"])
    return 0 if state.get("check_ran") else 1


if __name__ == "__main__":  # python conftest.py EXERCISE_ID RESULTS_FILE
    if len(sys.argv) != 3:
        print("usage: python conftest.py EXERCISE_ID RESULTS_FILE")
        sys.exit(2)
    sys.exit(exercise_verdict(sys.argv[1], sys.argv[2]))
