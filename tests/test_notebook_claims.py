"""Every number the notebook's text states, or claim about what a figure shows, checked against
what its cells computed (the stored outputs) or against a computation of its own here.

nbval proves that the stored outputs are what the cells compute; these tests prove that the text
around them says what the outputs show. A change that moves a result (another seed, another
training) fails here until the text is true again.
"""
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

import autils

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_PATH = ROOT / "lab2_multiclass.ipynb"


@pytest.fixture(scope="module")
def cells():
    return json.loads(NOTEBOOK_PATH.read_text())["cells"]


def source(cell):
    return "".join(cell["source"])


def printed(cell):
    return "".join("".join(o.get("text", "")) for o in cell.get("outputs", [])
                   if o["output_type"] == "stream")


def alt_texts(cell):
    return [o["metadata"]["image/png"]["alt"] for o in cell.get("outputs", [])
            if "image/png" in o.get("data", {})]


def code_cell(cells, fragment):
    (found,) = [c for c in cells if c["cell_type"] == "code" and fragment in source(c)]
    return found


def markdown(cells, fragment):
    (found,) = [c for c in cells if c["cell_type"] == "markdown" and fragment in source(c)]
    return source(found)


def numbers(text):
    return [float(n) for n in re.findall(r"-?\d+\.\d+(?:e-?\d+)?", text)]


# --- section 3 ------------------------------------------------------------------------------------

def test_exercise_1_states_the_real_limits_of_the_plain_formula(cells):
    text = " ".join(markdown(cells, "### Exercise 1").split())
    overflow64 = math.log(np.finfo(np.float64).max)
    underflow64 = math.log(np.finfo(np.float64).smallest_subnormal) - math.log(2)
    smallest_normal64 = math.log(np.finfo(np.float64).tiny)
    overflow32 = math.log(np.finfo(np.float32).max)
    assert f"above about {overflow64:.2f}" in text  # 709.78
    assert f"below about {underflow64:.2f}" in text  # -745.13
    assert f"from about {round(smallest_normal64)} down" in text  # -708: subnormal from there
    assert f"above about {overflow32:.2f}" in text  # 88.72
    # "a little before that value the sum already overflows": three values just below the limit.
    with np.errstate(over="ignore", invalid="ignore"):
        z = np.full(3, overflow64 - 0.5)
        assert np.isfinite(np.exp(z)).all() and not np.isfinite(np.exp(z).sum())
    # The cell that prints the limits computes the same numbers.
    limits = printed(code_cell(cells, "np.finfo(dtype)"))
    assert f"above z = {overflow64:.2f}" in limits and f"below z = {underflow64:.2f}" in limits
    assert f"above z = {overflow32:.2f}" in limits


def test_the_loss_of_the_example_and_of_ten_equal_probabilities(cells):
    shown = printed(code_cell(cells, "so the loss for the true class 2"))
    assert "a_2 = 0.665" in shown and "-ln a_2 = 0.408" in shown
    assert f"ln 10 = {math.log(10):.3f}" in shown
    assert printed(code_cell(cells, "sparse_loss =")).strip().endswith("0.408")
    text = markdown(cells, "### The cross-entropy loss")
    assert "$L = 0$" in text and "ln 10" in text
    challenge = markdown(cells, "### Optional challenge: the loss from the logits")
    assert "800.69" in challenge  # the loss of [0, 0, -800] for class 2: 800 + ln 2
    assert 800 + math.log(2) == pytest.approx(800.69, abs=0.005)
    with np.errstate(all="ignore"):
        z = np.array([0.0, 0.0, -800.0])
        assert np.exp(z)[2] / np.sum(np.exp(z)) == 0.0  # "a_2 rounds to 0"


def test_the_gradient_cell_shows_a_minus_onehot(cells):
    lines = printed(code_cell(cells, "gradient_tape.gradient")).splitlines()
    tensorflow, ours = (line.split(":")[1].strip() for line in lines)
    assert tensorflow == ours


# --- section 4.5 ------------------------------------------------------------------------------------

def test_section_4_5_text_quotes_its_table(cells):
    table = printed(code_cell(cells, "loss_after_softmax = keras.losses"))
    ordinary, mistake = (line for line in table.splitlines()[1:])
    assert numbers(ordinary.split("]")[1])[1:3] == [0.408, 0.408]
    probability, clipped, exact, gradient_after, gradient_exact = numbers(mistake.split("]")[1])
    assert 1e-9 < probability < 1e-8 and clipped == 16.118 and exact == 20.693
    assert gradient_after < 1e-8 and gradient_exact == 1.225
    text = markdown(cells, "For the ordinary example the two agree")
    for quoted in ("0.408", "16.118", "20.693", "1.225", "10^{-9}"):
        assert quoted in text, quoted
    assert "16.1" in markdown(cells, "### 4.5 Where the softmax goes")


def test_the_clipping_figure_parts_where_the_text_says(cells):
    (alt,) = alt_texts(code_cell(cells, "plot_softmax_loss_clipping()"))
    parted = float(re.search(r"from a gap of about ([\d.]+)", alt).group(1))
    assert 15 < parted < 17 and "stops at 16.118" in alt
    assert "soon reaches\n1.22" in markdown(cells, "From the logits, the loss keeps growing")


# --- sections 4.6 to 4.8 ----------------------------------------------------------------------------

def test_the_untrained_loss_is_close_to_ln_10_and_above_the_first_epoch(cells):
    untrained = numbers(printed(code_cell(cells, "untrained_loss = model.evaluate")))[0]
    assert abs(untrained - math.log(10)) < 0.2
    first_epoch = numbers(printed(code_cell(cells, "history = fit_model(model")).splitlines()[0])[0]
    assert first_epoch < untrained  # question 2 of section 6 explains why


def test_quiet_pixels_end_with_larger_weights_than_ink_pixels(cells):
    quiet_line, ink_line = printed(code_cell(cells, "quiet = quiet_pixels(X)")).splitlines()
    quiet_before, quiet_after = numbers(quiet_line)
    ink_before, ink_after = numbers(ink_line)
    assert abs(quiet_before - ink_before) < 0.01  # "all weights were drawn from the same range"
    assert quiet_after > ink_after  # "The quiet pixels end with the *larger* weights"
    X, _ = autils.load_data()
    assert quiet_line.startswith(f"{autils.quiet_pixels(X).sum()} quiet pixels")
    assert ink_line.startswith(f"{(X.std(axis=0) > 0.2).sum()} ink pixels")


def test_some_units_answer_to_one_digit_and_others_to_several(cells):
    (alt,) = alt_texts(code_cell(cells, "display_top_images("))
    rows = re.findall(r"unit \d+: ([\d, ]+)", alt)
    distinct = [len(set(row.split(", "))) for row in rows]
    assert len(rows) == 6 and min(distinct) == 1 and max(distinct) >= 3


# --- section 5 ---------------------------------------------------------------------------------------

def ladder(cells):
    lines = printed(code_cell(cells, "network_accuracy = np.mean")).splitlines()
    return {line.rsplit(" ", 1)[0].strip(): float(line.rsplit(" ", 1)[1].rstrip("%")) for line in lines}


def test_the_nearest_class_mean_accuracy_is_recomputed_here(cells):
    X, y = autils.load_data()
    is_test = np.arange(len(X)) % 5 == 0
    means = np.array([X[~is_test][y[~is_test].ravel() == d].mean(axis=0) for d in range(10)])
    distances = ((X[is_test][:, None, :] - means[None]) ** 2).sum(axis=2)
    accuracy = np.mean(np.argmin(distances, axis=1) == y[is_test].ravel())
    assert ladder(cells)["nearest class mean"] == round(100 * accuracy, 1)


def test_each_step_of_the_ladder_helps_and_the_hidden_layers_add_the_smaller_gain(cells):
    steps = ladder(cells)
    mean, regression, network = (steps["nearest class mean"], steps["softmax regression"],
                                  steps["network 400-25-15-10"])
    assert mean < regression < network
    assert network - regression < regression - mean


def test_overfitting_shows_where_the_text_says(cells):
    log = printed(code_cell(cells, "split_history = fit_model(")).splitlines()
    epochs = [numbers(line) for line in log]  # loss, accuracy, test loss, test accuracy
    training_loss = [row[0] for row in epochs]
    assert training_loss == sorted(training_loss, reverse=True)  # "keeps falling"
    (alt,) = alt_texts(code_cell(cells, "plot_history(split_history)"))
    lowest_epoch, lowest, last = (float(n) for n in re.search(
        r"lowest after epoch (\d+) \(([\d.]+)\) and ([\d.]+) after the last", alt).groups())
    assert lowest_epoch < 40 and last > lowest * 1.05  # the test loss rises again
    training_accuracy, test_accuracy = (float(n) for n in re.search(
        r"Training accuracy after the last epoch: ([\d.]+)%, test accuracy ([\d.]+)%", alt).groups())
    assert training_accuracy - test_accuracy > 3  # "several points below"
    assert training_accuracy > 99  # "climbs towards 100%"


def test_the_ladders_text_quotes_the_networks_training_and_test_accuracy(cells):
    last = numbers(printed(code_cell(cells, "split_history = fit_model(")).splitlines()[-1])
    text = " ".join(markdown(cells, "Each step up the ladder helps").split())
    assert f"reaches {last[1]:.1f}%, far above its {last[3]:.1f}% on the test images" in text


def test_the_test_prediction_grid_holds_mistakes_to_look_at(cells):
    (alt,) = alt_texts(code_cell(cells, "display_predictions(X_test"))
    assert re.search(r"\d+ are wrong", alt)


def test_the_confused_pairs_are_the_brightest_cells(cells):
    cell = code_cell(cells, "most_confused_pairs(y_test")
    pairs = re.findall(r"true digit (\d) predicted as (\d): (\d+) times", printed(cell))
    (alt,) = alt_texts(cell)
    assert len(pairs) == 3
    for true_digit, predicted, count in pairs:
        assert f"{true_digit} predicted as {predicted}, {count} times" in alt


# --- section 6 and the text as a whole --------------------------------------------------------------

def test_questions_have_answers_that_open(cells):
    text = "\n".join(source(c) for c in cells if c["cell_type"] == "markdown")
    section = text[text.index("## 6 - Check your understanding"):text.index("## Congratulations")]
    questions = re.findall(r"^\*\*(\d)\.\*\*", section, re.M)
    assert questions == [str(n) for n in range(1, len(questions) + 1)] and 4 <= len(questions) <= 6
    assert section.count("<details>") == section.count("</details>") == len(questions)


def test_softmax_of_z_and_z_plus_ln_2_is_one_third_two_thirds():
    from public_tests import _softmax
    for z in (-3.0, 0.0, 12.5):
        np.testing.assert_allclose(_softmax(np.array([z, z + math.log(2)])), [1 / 3, 2 / 3])


def test_every_figure_has_a_text_alternative(cells):
    figures = [o for c in cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(figures) >= 14
    for output in figures:
        assert len(output["metadata"]["image/png"]["alt"]) > 40
    images = re.findall(r"<img [^>]*>", "\n".join(source(c) for c in cells))
    assert images and all('alt="' in image for image in images)
