"""The grader against the cheat catalogue (tests/cheat_catalogue.py), case by case.

All cases are graded by two `python -m instructor grade` runs, honest and cheating submissions
mixed in the same batch (so honest work is also graded "in the same run as a submission that
attacks others"): the unexecuted ones start at once, the ones with stored outputs as soon as the
session's executed solution exists. Sandboxed when this machine can start the sandbox, otherwise
with --no-sandbox: the verdicts must be the same either way. The properties tested are the
grader's promises (README, "What a mark means"), not one verdict per case.
"""
import json

import nbformat
import pytest

from lab_submissions import (NOTEBOOK_NAME, completed, executed_solution, grade_in_background,
                             released_folder, submission_folder)
import cheat_catalogue
from instructor.engine import sandbox

# End to end and slow: run by `python -m pytest -m acceptance` (README, Tests), not by default.
pytestmark = pytest.mark.acceptance

MEMORY_LIMIT = 2000  # MB: an honest kernel peaks at about 900 MB
CELL_TIMEOUT = 120  # s: far above the slowest honest cell, even on a loaded machine


def _options():
    options = ["--jobs", 2, "--kernel-threads", 1, "--memory-limit", MEMORY_LIMIT,
               "--cell-timeout", CELL_TIMEOUT]
    return options if sandbox.availability().ok else options + ["--no-sandbox"]


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory):
    """{case name: (Case, record)} for every case of the catalogue."""
    release = released_folder(tmp_path_factory)
    solved = completed(nbformat.read(release / NOTEBOOK_NAME, as_version=4))
    root = tmp_path_factory.mktemp("catalogue")
    cases, runs = {}, {}

    first = (cheat_catalogue.cheats(solved) + cheat_catalogue.copied_references(solved)
             + cheat_catalogue.honest_unexecuted(solved) + cheat_catalogue.honest_habits(solved))
    for case in first:
        submission_folder(root / "unexecuted", case.name, release, case.notebook)
    runs["unexecuted"] = grade_in_background([root / "unexecuted"], root / "log-unexecuted",
                                             "--report-dir", root / "report-unexecuted",
                                             *_options())
    second = cheat_catalogue.honest_executed(executed_solution(tmp_path_factory))
    for case in second:
        submission_folder(root / "executed", case.name, release, case.notebook)
    runs["executed"] = grade_in_background([root / "executed"], root / "log-executed",
                                           "--report-dir", root / "report-executed",
                                           *_options())
    records = {}
    for batch, run in runs.items():
        result = run.result(timeout=3600)
        report = root / f"report-{batch}" / "report.json"
        assert report.is_file(), f"{batch}: {result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        for record in json.loads(report.read_text())["submissions"]:
            records[record["name"]] = record
    for case in first + second:
        cases[case.name] = (case, records.get(case.name))
    return cases


def _tampering(record):
    return [f for f in record["findings"] if f["severity"] == "tampering"]


def _describe(record):
    return json.dumps({"status": record["status"], "score": record["score"],
                       "flagged": record["flagged"], "refused": record.get("refused"),
                       "findings": record["findings"], "errors": record["errors"][:3],
                       "exercises": {key: value["message"][:300]
                                     for key, value in record["exercises"].items()}},
                      indent=1)[:6000]


def test_every_category_has_at_least_three_cases(catalogue):
    categories = {}
    for case, _ in catalogue.values():
        categories.setdefault(case.category, []).append(case.name)
    assert len(categories) >= 12, categories
    assert all(len(names) >= 3 for names in categories.values()), categories


def test_honest_work_gets_full_marks_and_is_never_flagged(catalogue):
    failures = []
    for name, (case, record) in sorted(catalogue.items()):
        if not case.honest:
            continue
        if record is None or (record["status"], record["score"], record["flagged"]) != \
                ("passed", 100, False) or _tampering(record):
            failures.append(f"{name}: {_describe(record) if record else 'not graded'}")
    assert not failures, "\n\n".join(failures)


def test_a_wrong_answer_earns_nothing_whatever_its_process_does(catalogue):
    failures = []
    for name, (case, record) in sorted(catalogue.items()):
        if case.honest or not case.lost:
            continue
        if record is None:
            failures.append(f"{name}: not graded")
            continue
        earned = [e for e in case.lost if record["exercises"][e]["passed"]
                  or record["exercises"][e]["points"]]
        if earned or record["status"] == "passed":
            failures.append(f"{name}: {earned or case.lost} should earn nothing:\n{_describe(record)}")
    assert not failures, "\n\n".join(failures)


def test_each_trick_is_named_for_the_instructor(catalogue):
    failures = []
    for name, (case, record) in sorted(catalogue.items()):
        if case.honest or not case.kinds or record is None:
            continue
        found = {f["kind"] for f in record["findings"]}
        if not found & set(case.kinds):
            failures.append(f"{name}: expected one of {case.kinds}:\n{_describe(record)}")
    assert not failures, "\n\n".join(failures)


def test_a_copied_reference_earns_its_marks_and_is_named(catalogue):
    cases = [(case, record) for case, record in catalogue.values() if case.earns]
    assert len(cases) >= 3
    for case, record in cases:
        for exercise in case.earns:
            assert record["exercises"][exercise]["passed"], _describe(record)
        assert "answer_uses_checks" in {f["kind"] for f in record["findings"]}, _describe(record)


def test_the_graders_limits_end_in_a_record_that_says_why(catalogue):
    for case, record in catalogue.values():
        if case.refused:
            assert record["status"] == "error" and case.refused in record["refused"], \
                _describe(record)
    case, record = catalogue["layer_of_a_million_units"]  # the kernel builds it: its limit
    assert "memory limit" in record["exercises"]["exercise_2"]["message"], _describe(record)
    case, record = catalogue["call_never_returns"]
    assert record["exercises"]["exercise_2"]["passed"], _describe(record)  # the kernel recovered


def test_the_instructors_check_runs_whatever_the_submission_says(catalogue):
    # Exercise 1's check given another function: the grader ran the instructor's call, so the
    # wrong softmax fails in its check cell too; the deleted check is put back.
    for name in ("check_given_other_function", "check_deleted"):
        case, record = catalogue[name]
        assert record["exercises"]["exercise_1"]["check_cell"] == "error", _describe(record)


def test_substituted_weights_earn_nothing_but_the_architecture_is_what_is_graded(catalogue):
    for name in ("weights_frozen_layers", "weights_zero_initialised", "weights_frozen_output"):
        case, record = catalogue[name]
        exercise = record["exercises"]["exercise_2"]
        assert not exercise["passed"] and "training digits" in exercise["message"], \
            _describe(record)
        assert record["exercises"]["exercise_1"]["passed"]  # the rest is graded on its merits


def test_honest_habits_leave_warnings_at_most(catalogue):
    # Each habit is named as a warning; nothing about it is tampering.
    expected = {"honest_trained_twice": "outputs_edited",
                "honest_scratch_cell": "outputs_edited",
                "honest_copied_check_cell": "check_metadata_moved",
                "honest_check_with_extra_line": "check_cell_kept_and_extended",
                "honest_progress_thread": "thread_started"}
    for name, kind in expected.items():
        case, record = catalogue[name]
        assert all(f["severity"] == "warning" for f in record["findings"]), _describe(record)
        assert kind in {f["kind"] for f in record["findings"]}, _describe(record)
