"""The lab notebook's shape: what students read and what tooling (release, grading) relies on."""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_PATH = ROOT / "lab2_multiclass.ipynb"
START, END = "### START CODE HERE ###", "### END CODE HERE ###"
EXERCISES = {"exercise_1": "test_my_softmax(my_softmax)",
             "challenge_stable_softmax": "test_my_softmax_stable(my_softmax_stable)",
             "exercise_2": "test_model(model, 10, 400)"}


@pytest.fixture(scope="module")
def cells():
    return json.loads(NOTEBOOK_PATH.read_text())["cells"]


def source(cell):
    return "".join(cell["source"])


def graded(cells, role):
    return {c["metadata"]["lab"]["exercise"]: c for c in cells
            if c["metadata"].get("lab", {}).get("role") == role}


def test_every_code_cell_follows_a_sentence_for_the_student(cells):
    for i, cell in enumerate(cells):
        if cell["cell_type"] == "code":
            assert i > 0 and cells[i - 1]["cell_type"] == "markdown", f"code cell {i} has no text before it"


def test_each_exercise_has_one_solution_cell_with_markers_and_a_placeholder(cells):
    solutions = graded(cells, "solution")
    assert set(solutions) == set(EXERCISES)
    for exercise, cell in solutions.items():
        text = source(cell)
        assert text.count(START) == 1 and text.count(END) == 1, exercise
        assert text.index(START) < text.index(END)
        assert cell["metadata"]["lab"]["placeholder"].strip(), exercise


def test_each_exercise_is_checked_right_after_its_solution(cells):
    checks = graded(cells, "check")
    assert {name: source(cell).strip() for name, cell in checks.items()} == EXERCISES
    for exercise in EXERCISES:
        solution_at = cells.index(graded(cells, "solution")[exercise])
        check_at = cells.index(checks[exercise])
        assert solution_at < check_at, exercise
        # Only the model's summary (the original lab's order) may come between a solution and its check.
        code_between = [source(c).strip() for c in cells[solution_at + 1:check_at] if c["cell_type"] == "code"]
        assert code_between in ([], ["model.summary()"]), f"{exercise}: {code_between}"


def test_stored_outputs_show_both_checks_passing(cells):
    for exercise in ("exercise_1", "exercise_2"):
        text = "".join("".join(o.get("text", "")) for o in graded(cells, "check")[exercise]["outputs"])
        assert "All tests passed" in text, exercise


def test_no_errors_or_stderr_stored(cells):
    for i, cell in enumerate(cells):
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error", f"cell {i} stored an error"
            assert output.get("name") != "stderr", f"cell {i} stored stderr: {''.join(output['text'])[:200]}"


def test_every_code_cell_ran_in_order(cells):
    counts = [c["execution_count"] for c in cells if c["cell_type"] == "code"]
    assert counts == list(range(1, len(counts) + 1))


def test_figures_are_stored_as_images(cells):
    images = sum("image/png" in o.get("data", {}) for c in cells for o in c.get("outputs", []))
    assert images >= 10


def test_nothing_stored_changes_between_runs(cells):
    volatile = re.compile(r"0x[0-9a-fA-F]{6,}|\d+(\.\d+)?\s*(ms|us|s)/step|ETA:|\d+\.\d+\s*seconds")
    for i, cell in enumerate(cells):
        for output in cell.get("outputs", []):
            text = "".join(output.get("text", "")) + "".join(output.get("data", {}).get("text/plain", ""))
            assert not volatile.search(text), f"cell {i}: {volatile.search(text).group(0)}"


def test_notebook_is_small_enough_to_review():
    assert NOTEBOOK_PATH.stat().st_size < 1_500_000
