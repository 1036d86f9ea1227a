"""The lab notebook's shape: what students read and what tooling (release, grading) relies on."""
import json
import re
from pathlib import Path

import pytest

from instructor.lab import spec

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_PATH = ROOT / "lab2_multiclass.ipynb"
START, END = "### START CODE HERE ###", "### END CODE HERE ###"
EXERCISES = {exercise.id: exercise.check_call for exercise in spec.EXERCISES}


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


def test_stored_outputs_show_every_check_passing(cells):
    for exercise in EXERCISES:
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
    assert images >= 14


def test_nothing_stored_changes_between_runs(cells):
    volatile = re.compile(r"0x[0-9a-fA-F]{6,}|\d+(\.\d+)?\s*(ms|us|s)/step|ETA:|\d+\.\d+\s*seconds")
    for i, cell in enumerate(cells):
        for output in cell.get("outputs", []):
            text = "".join(output.get("text", "")) + "".join(output.get("data", {}).get("text/plain", ""))
            assert not volatile.search(text), f"cell {i}: {volatile.search(text).group(0)}"


def test_notebook_is_small_enough_to_review():
    assert NOTEBOOK_PATH.stat().st_size < 1_500_000


def stored_text(cell):
    return "".join("".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", ""))
                   for o in cell.get("outputs", []))


def code_cell(cells, fragment):
    (cell,) = [c for c in cells if c["cell_type"] == "code" and fragment in source(c)]
    return cell


def test_no_negative_zero_is_printed(cells):
    # "-0." (or "-0" alone in an int array) reads as a bug to a student; rounding leaves it behind.
    for i, cell in enumerate(cells):
        found = re.search(r"-0(\.0*)?(?=[\s\],]|$)", stored_text(cell))
        assert not found, f"cell {i} prints {found.group(0)!r}: {stored_text(cell)[:200]}"


def test_the_first_cell_forces_the_settings_the_stored_outputs_need(cells):
    import autils

    first = source(next(c for c in cells if c["cell_type"] == "code"))
    assert first.splitlines()[0] == "%matplotlib inline"  # figures whatever MPLBACKEND says
    # The helpers are imported before TensorFlow: importing them sets the settings.
    assert first.splitlines()[1].startswith("from autils import")
    assert first.index("from autils import") < first.index("import tensorflow")
    assert autils.LAB_ENVIRONMENT == {"KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3",
                                      "TF_ENABLE_ONEDNN_OPTS": "0"}
    autils_source = (ROOT / "autils.py").read_text()
    # Assigned, not setdefault: a value from the environment must not win.
    assert "os.environ.update(LAB_ENVIRONMENT)" in autils_source


def test_demo_variables_of_section_4_5_are_read_nowhere_else(cells):
    """After a failed Exercise 2, a later cell must fail on its own names, not print nonsense
    computed from a name that the softmax demo of section 4.5 left behind."""
    import ast

    demo = code_cell(cells, "loss_after_softmax")
    assigned = {node.id for node in ast.walk(ast.parse(source(demo)))
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
    assert {"demo_logits"} <= assigned
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "code" or cell is demo or source(cell).startswith("%"):
            continue
        read = {node.id for node in ast.walk(ast.parse(source(cell)))
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
        assert not read & assigned, f"cell {i} reads {read & assigned} from the 4.5 demo"


def test_the_example_two_is_predicted_as_a_two_with_confidence(cells):
    shown = source(code_cell(cells, "image_of_two = X["))
    row = int(re.search(r"X\[(\d+)\]", shown).group(1))
    assert f"label=y[{row}, 0]" in shown
    printed = stored_text(code_cell(cells, "probabilities = tf.nn.softmax(digit_logits)"))
    assert "predicted digit: 2" in printed
    probabilities = [float(v) for v in re.search(r"\[\[(.*?)\]\]", printed, re.S).group(1).split()]
    assert probabilities[2] > 0.9, probabilities


def test_training_prints_a_short_deterministic_log(cells):
    printed = stored_text(code_cell(cells, "history = fit_model(model"))
    lines = printed.splitlines()
    assert [line.split(":")[0] for line in lines] == ["epoch  1", "epoch 10", "epoch 20", "epoch 30", "epoch 40"]
    losses = [float(line.split("loss ")[1]) for line in lines]
    assert losses == sorted(losses, reverse=True)


def test_students_see_the_lab_not_the_machinery(cells):
    """No speed flags, garbage-collector tweaks or environment overrides in what students read:
    the helpers take care of them."""
    everything = "\n".join(source(c) for c in cells)
    for machinery in ("steps_per_execution", "gc.", "os.environ", "import os"):
        assert machinery not in everything, machinery


def test_long_explanations_are_split_and_exercise_2_starts_its_own_cell(cells):
    for cell in cells:
        if cell["cell_type"] != "markdown":
            continue
        text = source(cell)
        prose = re.sub(r"<details>.*?</details>", "", text, flags=re.S)  # hints fold away
        assert len(prose.split()) <= 260, text[:80]
    assert any(source(c).startswith("### Exercise 2") for c in cells)


def test_exercise_2_makes_the_student_read_sections_4_3_and_4_5(cells):
    (task,) = [source(c) for c in cells if source(c).startswith("### Exercise 2")]
    statement = task[:task.index("<details>")]
    for answer in ("25", "15", '"linear"', '"relu"'):
        assert answer not in statement, answer  # the sizes and activations are in the hints
    assert "4.3" in statement and "4.5" in statement
    hints = task[task.index("<details>"):]
    assert all(answer in hints for answer in ("25", "15", '"linear"', '"relu"'))
    before_summary = cells[cells.index(code_cell(cells, "model.summary()")) - 1]
    assert "how many parameters" in source(before_summary) and "10,025" in source(before_summary)
    assert "10,025" not in "\n".join(source(c) for c in cells[:cells.index(before_summary)])


def test_section_4_5_teaches_the_clipping_with_a_figure(cells):
    text = source(next(c for c in cells if "### 4.5" in source(c)))
    assert "[10^{-7}, 1 - 10^{-7}]" in text and "exactly 0" not in text
    assert code_cell(cells, "plot_softmax_loss_clipping()")
    rescue = source(next(c for c in cells if source(c).startswith("What Keras rescues")))
    for named in ("keras.ops.softmax", "compiled TensorFlow function", "tf.nn.softmax", "NumPy"):
        assert named in rescue, named  # what is and is not rescued, as test_keras_facts measures


def test_confused_pairs_are_announced_where_they_print(cells):
    text = "\n".join(source(c) for c in cells if c["cell_type"] == "markdown" and "confusion matrix" in source(c))
    assert "Below it" not in text and "prints the three most frequent mistakes" in text
    check = code_cell(cells, "most_confused_pairs(")
    kinds = [o["output_type"] for o in check["outputs"]]
    assert kinds.index("stream") < kinds.index("execute_result")  # printed above the figure
