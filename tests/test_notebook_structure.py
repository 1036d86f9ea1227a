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
    first = source(next(c for c in cells if c["cell_type"] == "code"))
    assert first.splitlines()[0] == "%matplotlib inline"  # figures whatever MPLBACKEND says
    for name, value in (("KERAS_BACKEND", "tensorflow"), ("TF_CPP_MIN_LOG_LEVEL", "3"),
                        ("TF_ENABLE_ONEDNN_OPTS", "0")):
        # Assigned, not setdefault: a value from the environment must not win.
        assert f'os.environ["{name}"] = "{value}"' in first, name
    assert first.index('os.environ["KERAS_BACKEND"]') < first.index("import keras")


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
    printed = stored_text(code_cell(cells, "history = model.fit("))
    lines = printed.splitlines()
    assert [line.split(":")[0] for line in lines] == ["epoch  1", "epoch 10", "epoch 20", "epoch 30", "epoch 40"]
    losses = [float(line.split("loss ")[1]) for line in lines]
    assert losses == sorted(losses, reverse=True)


def test_steps_per_execution_stays_out_of_the_text(cells):
    markdown = "\n".join(source(c) for c in cells if c["cell_type"] == "markdown")
    assert "steps_per_execution" not in markdown  # a short comment in the code is enough


def test_section_4_5_says_the_clipped_loss_gives_no_gradient(cells):
    text = source(next(c for c in cells if "### 4.5" in source(c)))
    assert "gradient is exactly 0" in text and "gentle" not in text
    printed = stored_text(code_cell(cells, "loss_after_softmax"))
    extreme = next(line for line in printed.splitlines() if "-200" in line).split()
    assert float(extreme[-2]) == 0.0 and float(extreme[-1]) > 1  # as the text says
    keras_note = "\n".join(source(c) for c in cells if "from_logits=False" in source(c))
    assert "same losses" in keras_note  # Keras 3 recovers the logits inside fit: say so


def test_confused_pairs_are_announced_where_they_print(cells):
    text = "\n".join(source(c) for c in cells if c["cell_type"] == "markdown" and "confusion matrix" in source(c))
    assert "Below it" not in text and "prints the three most frequent mistakes" in text
    check = code_cell(cells, "most_confused_pairs(")
    kinds = [o["output_type"] for o in check["outputs"]]
    assert kinds.index("stream") < kinds.index("execute_result")  # printed above the figure
