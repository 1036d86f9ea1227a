"""The students' CI files written from the lab spec (instructor/classroom.py): the GitHub
Classroom workflow gives each graded exercise its own test with its points, behind a 0-point
nbval gate; the conftest names each exercise; and the instructors' sharded grading workflow."""
import json
import subprocess
import sys

import pytest
import yaml

from lab_submissions import ROOT  # noqa: F401  (puts the project on sys.path)
from instructor.lab import spec
from instructor.lab.files import TEMPLATES_DIR
from instructor.exports.classroom import (RESULTS_FILE, TemplateError, render_conftest,
                                  render_workflow)

GRADER = "classroom-resources/autograding-command-grader@v1"
REPORTER = "classroom-resources/autograding-grading-reporter@v1"


@pytest.fixture(scope="module")
def steps():
    return yaml.safe_load(render_workflow())["jobs"]["nbval"]["steps"]


def _tests(steps):
    return [step for step in steps if step.get("uses") == GRADER]


def test_each_graded_exercise_is_a_test_with_its_points_behind_a_zero_point_gate(steps):
    gate, *exercises = _tests(steps)
    assert gate["with"]["max-score"] == 0
    assert gate["with"]["command"].startswith("python -m pytest --nbval lab2_multiclass.ipynb")
    assert f"--lab-results={RESULTS_FILE}" in gate["with"]["command"]
    assert [(s["with"]["test-name"], s["with"]["max-score"]) for s in exercises] == \
        [(item.title, item.points) for item in spec.GRADED]
    assert sum(s["with"]["max-score"] for s in exercises) == spec.MAX_SCORE
    for step, item in zip(exercises, spec.GRADED):
        assert step["id"] == item.id and step["if"] == "always()"
        assert step["with"]["command"] == f"python conftest.py {item.id} {RESULTS_FILE}"


def test_the_optional_challenge_has_no_test_so_it_never_costs_points(steps):
    text = json.dumps(steps)
    for item in spec.OPTIONAL:
        assert item.id not in text and item.title not in text


def test_the_reporter_reads_every_test(steps):
    [reporter] = [step for step in steps if step.get("uses") == REPORTER]
    ids = [step["id"] for step in _tests(steps)]
    assert reporter["with"]["runners"] == ",".join(ids)
    assert set(reporter["env"]) == {f"{step_id.upper()}_RESULTS" for step_id in ids}
    for step_id in ids:
        assert reporter["env"][f"{step_id.upper()}_RESULTS"] == \
            f"${{{{ steps.{step_id}.outputs.result }}}}"
    assert reporter["if"] == "always()"


def test_no_template_writes_an_exercise_fact():
    for name in ("grade.yml", "student_conftest.py"):
        text = (TEMPLATES_DIR / name).read_text()
        for item in spec.EXERCISES:
            assert item.title not in text and item.id not in text, (name, item.id)


def test_the_conftest_lists_the_spec_exercises():
    namespace = {}
    exec(compile(render_conftest(), "conftest.py", "exec"), namespace)
    assert namespace["EXERCISES"] == [(item.id, item.title) for item in spec.EXERCISES]


def test_an_edited_template_is_refused():
    with pytest.raises(TemplateError, match="@@EXERCISE_STEPS@@"):
        render_workflow("name: x\n")
    with pytest.raises(TemplateError, match="EXERCISES = \\[\\]"):
        render_conftest("import pytest\n")


@pytest.fixture()
def conftest_script(tmp_path):
    (tmp_path / "conftest.py").write_text(render_conftest())
    return tmp_path


def _verdict(folder, *arguments):
    result = subprocess.run([sys.executable, "conftest.py", *arguments], cwd=folder,
                            capture_output=True, text=True, timeout=120)
    return result.returncode, result.stdout


def test_the_exercise_verdict_reads_the_gate_results(conftest_script):
    results = {"exercise_1": {"status": "FAILED", "message": "in its check cell: AssertionError",
                              "check_ran": False, "summary": "Exercise 1 (my_softmax): FAILED x"},
               "exercise_2": {"status": "FAILED", "message": "in its solution cell: outputs",
                              "check_ran": True, "summary": "Exercise 2 (model): FAILED y"}}
    (conftest_script / RESULTS_FILE).write_text(json.dumps(results))
    assert _verdict(conftest_script, "exercise_1", RESULTS_FILE) == (1, "Exercise 1 (my_softmax): FAILED x\n")
    code, out = _verdict(conftest_script, "exercise_2", RESULTS_FILE)
    assert code == 0 and "its check passed" in out
    code, out = _verdict(conftest_script, "exercise_3", RESULTS_FILE)
    assert code == 2 and "unknown exercise 'exercise_3'" in out
    code, out = _verdict(conftest_script, "exercise_1", "missing.json")
    assert code == 1 and "did not finish" in out


def test_the_grading_workflow_runs_every_shard_in_the_sandbox_and_merges_them():
    workflow = yaml.safe_load((TEMPLATES_DIR / "grading-workflow.yml").read_text())
    count = int(workflow["env"]["SHARDS"])
    grade, merge = workflow["jobs"]["grade"], workflow["jobs"]["merge"]
    assert grade["strategy"]["matrix"]["shard"] == list(range(1, count + 1))
    assert grade["strategy"]["fail-fast"] is False
    commands = [step.get("run", "") for step in grade["steps"]]
    lift = next(i for i, c in enumerate(commands)
                if "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0" in c)
    [grading] = [i for i, c in enumerate(commands) if "python -m instructor grade" in c]
    assert lift < grading
    assert "--shard ${{ matrix.shard }}/${{ env.SHARDS }}" in commands[grading]
    assert "--no-sandbox" not in json.dumps(workflow)
    assert merge["needs"] == "grade"
    assert any("python -m instructor merge-reports report shards/shard-*/shard-report"
               in step.get("run", "") for step in merge["steps"])
