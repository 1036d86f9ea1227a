"""Sharded grading: `grade --shard K/N` grades a deterministic K-th of N parts of the
submissions, and `merge-reports` merges the shards' reports into the report of a single run,
refusing overlapping, missing or mismatched shards."""
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from lab_submissions import ROOT, completed, released_folder
from report_records import record, report
from instructor.__main__ import main
from instructor.grading.submissions import Submission
from instructor.reports import write_reports
from instructor.reports.merge import MergeError, merge_reports
from instructor.reports.shards import ShardError, parse_shard, select_shard, shard_description

# Fields that measure the run (time, memory), not the grading: they differ between any two runs.
MEASURED = ("timings", "peak_memory_mb")


@pytest.mark.parametrize("text, expected", [("1/1", (1, 1)), ("2/3", (2, 3)), (" 4/4", (4, 4))])
def test_parse_shard_accepts_k_of_n(text, expected):
    assert parse_shard(text) == expected


@pytest.mark.parametrize("text", ["0/2", "3/2", "1/0", "1", "a/b", "1/2/3", "-1/2", ""])
def test_parse_shard_explains_what_it_expected(text):
    with pytest.raises(ShardError) as error:
        parse_shard(text)
    assert "--shard" in str(error.value) and repr(text) in str(error.value)


def _fake(names):
    return [Submission(name, Path("subs") / f"{name}.ipynb") for name in names]


@pytest.mark.parametrize("total, count", [(0, 2), (1, 2), (5, 2), (7, 3), (10, 4), (3, 5)])
def test_shards_cover_every_submission_once_in_near_equal_parts(total, count):
    submissions = _fake([f"s{i:02d}" for i in range(total)])
    parts = [select_shard(submissions, index, count) for index in range(1, count + 1)]
    names = [item.name for part in parts for item in part]
    assert sorted(names) == sorted(item.name for item in submissions)
    assert len(set(names)) == len(names)
    assert max(map(len, parts)) - min(map(len, parts)) <= 1


def test_shards_depend_on_sorted_paths_not_on_the_order_given():
    submissions = _fake(["carol", "alice", "bob", "dave"])
    first = [item.name for item in select_shard(submissions, 1, 2)]
    again = [item.name for item in select_shard(list(reversed(submissions)), 1, 2)]
    assert sorted(first) == sorted(again) == ["alice", "bob"]
    assert first == ["alice", "bob"]  # in the order given: carol, alice, bob, dave


def _shard_report(tmp_path, name, submissions, index, count, options=None):
    selected = select_shard(submissions, index, count)
    folder = tmp_path / name
    write_reports(report([record(item.name) for item in selected], 2.0,
                         options or {"cell_timeout": 120.0, "executed_dir": ""},
                         shard=shard_description(submissions, selected, index, count)), folder)
    return folder


def test_merge_refuses_overlapping_missing_and_mismatched_shards(tmp_path):
    people = _fake(["alice", "bob", "carol"])
    one, two = _shard_report(tmp_path, "one", people, 1, 2), _shard_report(tmp_path, "two", people, 2, 2)
    merged = tmp_path / "merged"
    cases = {
        "given twice": [one, two, one],
        "shard(s) 2/2 missing": [one],
        "different options (cell_timeout: 120.0 in": [
            one, _shard_report(tmp_path, "slow", people, 2, 2, {"cell_timeout": 300.0})],
        "cut into the same number of parts": [one, _shard_report(tmp_path, "of3", people, 2, 3)],
        "cut from different submissions": [
            one, _shard_report(tmp_path, "other", _fake(["alice", "bob", "zoe"]), 2, 2)],
    }
    for expected, folders in cases.items():
        with pytest.raises(MergeError) as error:
            merge_reports(merged, folders)
        assert expected in str(error.value), (expected, str(error.value))
    plain = tmp_path / "plain"
    write_reports(report([record("alice")], 1.0, {}), plain)
    with pytest.raises(MergeError, match="not graded with --shard"):
        merge_reports(merged, [one, plain])
    with pytest.raises(MergeError, match="no report.json"):
        merge_reports(merged, [one, tmp_path / "nowhere"])
    edited = tmp_path / "edited"
    edited.mkdir()
    (edited / "report.json").write_text(json.dumps({"schema_version": 2, "shard": {"index": "2"},
                                                    "submissions": []}))
    with pytest.raises(MergeError, match="not what `grade --shard` writes"):
        merge_reports(merged, [one, edited])
    (edited / "report.json").write_text("{ cut short")
    with pytest.raises(MergeError, match="not a readable grading report"):
        merge_reports(merged, [one, edited])
    with pytest.raises(MergeError, match="folder of its own"):
        merge_reports(one, [one, two])
    assert not merged.exists()


def test_merge_keeps_the_single_run_order_and_local_options_may_differ(tmp_path):
    people = _fake(["carol", "alice", "bob"])
    one = _shard_report(tmp_path, "one", people, 1, 2, {"cell_timeout": 1.0, "executed_dir": "a"})
    two = _shard_report(tmp_path, "two", people, 2, 2, {"cell_timeout": 1.0, "executed_dir": "b"})
    paths, merged = merge_reports(tmp_path / "merged", [two, one])
    assert [r.name for r in merged.submissions] == ["carol", "alice", "bob"]
    document = json.loads(paths["json"].read_text())
    assert [s["index"] for s in document["shards"]] == [1, 2]
    assert sorted(paths) == ["html", "json", "markdown", "text"]  # the overview is merged too
    assert "3 submission(s)" in paths["html"].read_text()


def test_merge_refuses_a_report_of_another_schema_version(tmp_path):
    people = _fake(["alice", "bob"])
    one, two = _shard_report(tmp_path, "one", people, 1, 2), _shard_report(tmp_path, "two", people, 2, 2)
    document = json.loads((two / "report.json").read_text())
    document["schema_version"] = 1
    (two / "report.json").write_text(json.dumps(document))
    with pytest.raises(MergeError, match="report schema 1, this one reads 2"):
        merge_reports(tmp_path / "merged", [one, two])


def test_merge_reports_command_exit_codes(tmp_path, capsys):
    people = _fake(["alice", "bob"])
    one = _shard_report(tmp_path, "one", people, 1, 2)
    assert main(["merge-reports", str(tmp_path / "out"), str(one)]) == 2
    assert "2/2 missing" in capsys.readouterr().err
    two = _shard_report(tmp_path, "two", people, 2, 2)
    assert main(["merge-reports", str(tmp_path / "out"), str(one), str(two)]) == 0
    assert "Merged 2 shard report(s)" in capsys.readouterr().out


def test_grade_shard_needs_a_report_dir_and_a_valid_k_of_n(tmp_path, capsys):
    notebook = tmp_path / "a.ipynb"
    notebook.write_text("{")
    assert main(["grade", str(notebook), "--shard", "3/2", "--report-dir", str(tmp_path / "r")]) == 2
    assert "1 <= K <= N" in capsys.readouterr().err
    assert main(["grade", str(notebook), "--shard", "1/2"]) == 2
    assert "--shard needs --report-dir" in capsys.readouterr().err


def _cheap_submissions(folder):
    """Submissions the grader settles without a kernel: not JSON, nbformat 3, empty, binary."""
    folder.mkdir(parents=True)
    (folder / "amy.ipynb").write_text("{ this is not json")
    (folder / "ben.ipynb").write_text('{"nbformat": 3, "nbformat_minor": 0, "worksheets": []}')
    (folder / "cat.ipynb").write_text("")
    (folder / "dan.ipynb").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (folder / "eve").mkdir()
    (folder / "eve" / "lab2_multiclass.ipynb").write_text("[1, 2, 3]")


def _grade(paths, report_dir, *options):
    return subprocess.Popen([sys.executable, "-m", "instructor", "grade", *map(str, paths),
                             "--jobs", "1", "--report-dir", str(report_dir), *options],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _without_measurements(records):
    return [{key: value for key, value in item.items() if key not in MEASURED} for item in records]


@pytest.mark.acceptance  # end to end: `python -m pytest -m acceptance`
def test_two_shards_merged_equal_one_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("shards")
    submissions = root / "submissions"
    _cheap_submissions(submissions)
    # One real submission: a completed notebook, graded by a kernel like any other.
    student = nbformat.read(released_folder(tmp_path_factory) / "lab2_multiclass.ipynb", as_version=4)
    nbformat.write(completed(student), submissions / "fay.ipynb")
    runs = {"single": _grade([submissions], root / "single"),
            "1": _grade([submissions], root / "shard1", "--shard", "1/2"),
            "2": _grade([submissions], root / "shard2", "--shard", "2/2")}
    outputs = {name: process.communicate()[0] for name, process in runs.items()}
    for name, process in runs.items():
        assert process.returncode == 1, outputs[name][-3000:]  # the unreadable ones fail
    assert "Shard 1/2: 3 of 6 submission(s)" in outputs["1"]
    merged = root / "merged"
    assert main(["merge-reports", str(merged), str(root / "shard1"), str(root / "shard2")]) == 1
    single = json.loads((root / "single" / "report.json").read_text())
    together = json.loads((merged / "report.json").read_text())
    names = [r["name"] for r in together["submissions"]]
    assert names == [r["name"] for r in single["submissions"]]
    assert sorted(names) == ["amy", "ben", "cat", "dan", "eve", "fay"]
    assert _without_measurements(together["submissions"]) == _without_measurements(single["submissions"])
    assert together["options"] == single["options"]
    [fay] = [r for r in together["submissions"] if r["name"] == "fay"]
    assert fay["status"] == "passed" and fay["score"] == fay["max_score"], fay
    text_single, text_merged = ((folder / "report.txt").read_text().splitlines()
                                for folder in (root / "single", merged))
    table = lambda lines: [line.rsplit("  ", 1)[0] for line in lines[2:9]]  # noqa: E731 (no time)
    assert table(text_merged) == table(text_single)
    assert (merged / "report.md").read_text().count("\n## ") == 6
