"""The grader against the cheat catalogue (tests/cheat_catalogue.py), case by case.

All cases are graded by two `python -m instructor grade` runs, honest and cheating submissions
mixed in the same batch (so honest work is also graded "in the same run as a submission that
attacks others"): the unexecuted ones start at once, the ones with stored outputs as soon as the
session's executed solution exists. Sandboxed when this machine can start the sandbox, otherwise
with --no-sandbox: the verdicts must be the same either way.
"""
import json

import nbformat
import pytest

from lab_submissions import (NOTEBOOK_NAME, completed, executed_solution, grade_in_background,
                             released_folder, submission_folder)
import cheat_catalogue
from instructor import sandbox

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

    first = cheat_catalogue.cheats(solved) + cheat_catalogue.honest_unexecuted(solved)
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
                       "findings": record["findings"], "errors": record["errors"][:3],
                       "exercises": {key: value["message"][:300]
                                     for key, value in record["exercises"].items()}},
                      indent=1)[:6000]


def test_every_category_has_three_cases_each_way(catalogue):
    categories = {}
    for case, _ in catalogue.values():
        categories.setdefault(case.category, []).append(case.name)
    assert len(categories) >= 9, categories
    assert all(len(names) >= 3 for names in categories.values()), categories


def test_honest_work_gets_full_marks_and_no_tampering_finding(catalogue):
    failures = []
    for name, (case, record) in sorted(catalogue.items()):
        if not case.honest:
            continue
        if record is None or (record["status"], record["score"]) != ("passed", 100) \
                or _tampering(record):
            failures.append(f"{name}: {_describe(record) if record else 'not graded'}")
    assert not failures, "\n\n".join(failures)


def test_each_cheat_is_caught(catalogue):
    failures = []
    for name, (case, record) in sorted(catalogue.items()):
        if case.honest:
            continue
        if record is None:
            failures.append(f"{name}: not graded")
            continue
        found = {f["kind"] for f in _tampering(record)}
        if case.kinds and (record["status"] != "tampering" or not found & set(case.kinds)):
            failures.append(f"{name}: expected one of {case.kinds}:\n{_describe(record)}")
        lost = [e for e in case.lost if record["exercises"].get(e, {}).get("passed")]
        if lost or (case.lost and record["status"] == "passed"):
            failures.append(f"{name}: {lost or case.lost} should earn nothing:\n"
                            f"{_describe(record)}")
    assert not failures, "\n\n".join(failures)


def test_kernel_cheats_are_caught_by_the_probe_not_only_the_static_scan(catalogue):
    # The kernel cheats hide from the static scan: the findings must say the grader restored or
    # removed what it found in the kernel, or name the lab's code the answer came from.
    for name in ("numpy_writer_patched", "numpy_private_patched", "hmac_patched",
                 "forged_numpy_function"):
        case, record = catalogue[name]
        assert any("restored" in f["message"] for f in _tampering(record)), _describe(record)
    case, record = catalogue["forged_check"]
    assert any("is not the instructor's check" in f["message"] for f in _tampering(record))


def test_the_instructors_check_runs_whatever_the_submission_says(catalogue):
    # Exercise 1's check given another function: the grader ran the instructor's call, so the
    # wrong softmax fails; the deleted check is put back, and the exercise still graded.
    case, record = catalogue["check_given_other_function"]
    assert not record["exercises"]["exercise_1"]["passed"]
    case, record = catalogue["check_deleted"]
    assert record["exercises"]["exercise_1"]["passed"], _describe(record)


def test_substituted_weights_earn_nothing_but_the_architecture_is_what_is_graded(catalogue):
    for name in ("weights_frozen_layers", "weights_zero_initialised", "weights_frozen_output"):
        case, record = catalogue[name]
        exercise = record["exercises"]["exercise_2"]
        assert not exercise["passed"] and "training digits" in exercise["message"], \
            _describe(record)
        assert record["exercises"]["exercise_1"]["passed"]  # the rest is graded on its merits
    case, record = catalogue["honest_relu_layer_objects"]
    assert "retrain" in record["timings"]  # trained in the grader (or reused: same architecture)


def test_honest_habits_leave_warnings_at_most(catalogue):
    # Each habit is named as a warning; nothing about it is tampering. (Other warnings may come
    # from the files around the notebook, e.g. a helper changed since the release.)
    expected = {"honest_trained_twice": "outputs_edited",
                "honest_scratch_cell": "outputs_edited",
                "honest_copied_check_cell": "check_metadata_moved",
                "honest_check_with_extra_line": "check_cell_edited"}
    for name, kind in expected.items():
        case, record = catalogue[name]
        assert all(f["severity"] == "warning" for f in record["findings"]), _describe(record)
        assert kind in {f["kind"] for f in record["findings"]}, _describe(record)
