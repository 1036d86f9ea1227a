"""public_tests.py, the checks that end each graded cell, against a catalogue of answers.

A check is the teacher beside the student: it must accept every correct answer (and then print
one fixed green line, nothing else), reject every wrong one with an AssertionError (never another
exception) whose message carries the hint for that very mistake, and leave what it was given, the
student's array or model, exactly as it was. The answers live in softmax_answers.py and
model_answers.py, each wrong one with the words its message must contain.
"""
import random
import subprocess
import sys
import warnings
from pathlib import Path

import keras
import numpy as np
import pytest

import cross_entropy_answers
import model_answers
import public_tests as pt  # not `from public_tests import test_...`: pytest would collect those
import softmax_answers

ROOT = Path(__file__).resolve().parents[1]
PASS = {check: f"\033[92m{check}: All tests passed!\033[0m\n"
        for check in ("test_my_softmax", "test_my_softmax_stable", "test_cross_entropy_from_logits",
                      "test_model")}
SKIP_LINE = ("test_my_softmax_stable: the optional challenge is not attempted yet; "
             "you can skip it.\n")


def _ids(catalogue):
    return [entry[0] for entry in catalogue]


def _failure(check, *args):
    """Run a check that must fail; return its message after checking how it failed."""
    with pytest.raises(AssertionError) as info:
        getattr(pt, check)(*args)
    error = info.value
    assert type(error) is AssertionError
    # No chained traceback into the check: not the student's error, not an internal one.
    assert error.__cause__ is None and error.__suppress_context__
    frames = [entry.name for entry in info.traceback if Path(entry.path) == Path(pt.__file__)]
    assert frames == [check], "the student's traceback must stop in the public check"
    return str(error)


def _assert_message_shape(message, check):
    assert message.startswith(f"{check} failed: ")
    assert "Expected" in message and "Hint: " in message
    assert "\n" not in message  # one plain message


# ---- Exercise 1: softmax ----------------------------------------------------------------------

def test_softmax_catalogue_is_big_enough():
    assert len(softmax_answers.CORRECT) >= 12 and len(softmax_answers.WRONG) >= 24
    ids = _ids(softmax_answers.CORRECT) + _ids(softmax_answers.WRONG)
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("name, answer", softmax_answers.CORRECT,
                         ids=_ids(softmax_answers.CORRECT))
def test_correct_softmax_passes(capsys, name, answer):
    pt.test_my_softmax(answer)
    assert capsys.readouterr() == (PASS["test_my_softmax"], "")


@pytest.mark.parametrize("name, answer, hint", softmax_answers.WRONG,
                         ids=_ids(softmax_answers.WRONG))
def test_wrong_softmax_fails_with_its_hint(capsys, name, answer, hint):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        message = _failure("test_my_softmax", answer)
    # The student's overflow and 0/0 warnings never spill into the check's output.
    assert [w for w in caught if issubclass(w.category, RuntimeWarning)] == []
    assert hint in message
    _assert_message_shape(message, "test_my_softmax")
    assert capsys.readouterr().out == ""
    assert _failure("test_my_softmax", answer) == message  # the same every run


def test_softmax_check_restores_numpys_error_settings():
    previous = np.seterr(all="warn", under="ignore")
    try:
        before = np.geterr()
        _failure("test_my_softmax", softmax_answers.numpy_division_by_zero)
        assert np.geterr() == before
    finally:
        np.seterr(**previous)


def test_softmax_not_implemented_is_a_friendly_message():
    message = _failure("test_my_softmax", softmax_answers.not_implemented)
    assert message.startswith("Exercise 1 is not implemented yet")
    assert "### START CODE HERE ###" in message and "run that cell again" in message


def test_student_error_is_reported_as_theirs_with_their_line():
    message = _failure("test_my_softmax", softmax_answers.math_exp_on_array)
    assert "your math_exp_on_array raised TypeError: " in message
    assert "in the line `return math.exp(z) / sum(math.exp(z))`" in message


@pytest.mark.parametrize("target, got", [(None, "got NoneType None"),
                                         (np.array([0.1, 0.9]), "got ndarray")])
def test_softmax_check_wants_the_function_itself(target, got):
    message = _failure("test_my_softmax", target)
    assert got in message and "pass the function itself" in message


def test_tolerance_is_relative_not_absolute():
    pt.test_my_softmax(lambda z: pt._softmax(z) * (1 + 1e-9))  # rounding noise: accepted
    message = _failure("test_my_softmax", lambda z: pt._softmax(z) * (1 + 1e-5))
    assert "close but not exact" in message and "do not round" in message


def test_softmax_check_leaves_global_random_state_alone():
    np_state, py_state = np.random.get_state(), random.getstate()
    pt.test_my_softmax(softmax_answers.plain_formula)
    assert all(np.array_equal(a, b) for a, b in zip(np_state, np.random.get_state()))
    assert random.getstate() == py_state


def test_check_bug_is_an_assertion_not_a_traceback_into_the_check(monkeypatch):
    def broken(*args):
        raise TypeError("boom")

    monkeypatch.setattr(pt, "_check_values", broken)
    message = _failure("test_my_softmax", softmax_answers.plain_formula)
    assert message.startswith("test_my_softmax failed: the check itself stopped on TypeError: boom")


# ---- the optional challenge: a stable softmax ---------------------------------------------------

STABLE_CORRECT = [entry for entry in softmax_answers.CORRECT if entry[0] in (
    "max_subtracted", "max_subtracted_on_a_copy_in_place", "float32_throughout",
    "scipy_softmax", "tf_softmax_of_floats_as_numpy")]


def subtract_min(z):
    ez = np.exp(z - np.min(z))
    return ez / ez.sum()


def subtract_mean(z):
    ez = np.exp(z - np.mean(z))
    return ez / ez.sum()


STABLE_WRONG = [
    (name, answer) for name, answer in softmax_answers.CORRECT if name in (
        "plain_formula", "loops_with_math_exp", "float32_result", "log_sum_exp",
        "list_comprehension_then_array")
] + [("subtract_min", subtract_min), ("subtract_mean", subtract_mean)]


@pytest.mark.parametrize("name, answer", STABLE_CORRECT, ids=_ids(STABLE_CORRECT))
def test_stable_softmax_passes(capsys, name, answer):
    pt.test_my_softmax_stable(answer)
    assert capsys.readouterr() == (PASS["test_my_softmax_stable"], "")


def _stable_failure(answer, capsys):
    """Run the challenge's check on a wrong answer: it must not raise, must print its message in
    red on one line, and must say "failed" to the grader; returns the message."""
    assert pt.test_my_softmax_stable(answer) is None  # nothing for the notebook to display
    printed = capsys.readouterr()
    assert printed.err == "" and printed.out.startswith("\033[91m") and printed.out.endswith(
        "\033[0m\n")
    message = printed.out[len("\033[91m"):-len("\033[0m\n")]
    outcome = pt.test_my_softmax_stable(answer, return_outcome=True)
    assert outcome == pt.Outcome("test_my_softmax_stable", "failed", message)
    assert capsys.readouterr().out == ""  # the grader's call prints nothing for a failure
    _assert_message_shape(message, "test_my_softmax_stable")
    return message


@pytest.mark.parametrize("name, answer", STABLE_WRONG, ids=_ids(STABLE_WRONG))
def test_softmax_that_overflows_fails_the_stable_check_explaining_overflow(capsys, name, answer):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # NumPy's overflow warnings never reach the student
        message = _stable_failure(answer, capsys)
    assert "overflow" in message and "z = z - np.max(z)" in message


def test_plain_formula_fails_on_1000_1001_1002(capsys):
    message = _stable_failure(softmax_answers.plain_formula, capsys)
    assert "z = [1000. 1001. 1002.]" in message and "nan" in message


def test_stable_check_still_checks_the_softmax_itself(capsys):
    message = _stable_failure(softmax_answers.divided_by_sum_of_z, capsys)
    assert message.startswith("test_my_softmax_stable failed: ")
    assert "you divided by the sum of z" in message


@pytest.mark.parametrize("answer, hint", [
    (softmax_answers.shifted_numerator_unshifted_denominator,
     "subtracted max(z) in the top of the fraction but not in the bottom"),
    (softmax_answers.shifted_denominator_unshifted_numerator,
     "subtracted max(z) in the bottom of the fraction but not in the top"),
    (softmax_answers.not_normalised, "did not divide by the sum of all e^z"),
    (softmax_answers.sum_skips_first_value, "e^(z[j] - m) / (sum of e^(z[k] - m))"),
], ids=["shifted_top_only", "shifted_bottom_only", "not_normalised", "sum_skips_first_value"])
def test_stable_check_never_points_to_the_formula_that_overflows(capsys, answer, hint):
    message = _stable_failure(answer, capsys)
    assert hint in message
    assert "np.exp(z) / np.sum(np.exp(z))" not in message


def test_stable_challenge_not_attempted_prints_one_line_and_does_not_fail(capsys):
    pt.test_my_softmax_stable(softmax_answers.not_implemented)
    assert capsys.readouterr() == (SKIP_LINE, "")
    outcome = pt.test_my_softmax_stable(softmax_answers.not_implemented, return_outcome=True)
    assert outcome == pt.Outcome("test_my_softmax_stable", "not attempted", SKIP_LINE.strip())


def test_outcome_reports_each_verdict_without_raising(capsys):
    passed = pt.test_my_softmax(softmax_answers.plain_formula, return_outcome=True)
    failed = pt.test_my_softmax(softmax_answers.forgot_exp, return_outcome=True)
    assert passed == pt.Outcome("test_my_softmax", "passed", PASS["test_my_softmax"].strip())
    assert failed.status == "failed" and "you forgot the exponential" in failed.message
    assert failed.message == _failure("test_my_softmax", softmax_answers.forgot_exp)
    model_outcome = pt.test_model(model_answers.no_input_size(), 10, 400, return_outcome=True)
    assert model_outcome.status == "failed" and "keras.Input(shape=(400,))" in model_outcome.message


# ---- Optional challenge: the cross-entropy loss ------------------------------------------------

CROSS_ENTROPY = "test_cross_entropy_from_logits"


def test_cross_entropy_catalogue_is_big_enough():
    assert len(cross_entropy_answers.CORRECT) >= 6 and len(cross_entropy_answers.WRONG) >= 14


@pytest.mark.parametrize("name, answer", cross_entropy_answers.CORRECT,
                         ids=_ids(cross_entropy_answers.CORRECT))
def test_correct_cross_entropy_passes(capsys, name, answer):
    assert pt.test_cross_entropy_from_logits(answer) is None
    assert capsys.readouterr().out == PASS[CROSS_ENTROPY]


@pytest.mark.parametrize("name, answer, hint", cross_entropy_answers.WRONG,
                         ids=_ids(cross_entropy_answers.WRONG))
def test_wrong_cross_entropy_is_reported_with_its_hint_and_never_raises(capsys, name, answer, hint):
    outcome = pt.test_cross_entropy_from_logits(answer, return_outcome=True)
    assert outcome.status == "failed"
    _assert_message_shape(outcome.message, CROSS_ENTROPY)
    assert hint in outcome.message
    assert pt.test_cross_entropy_from_logits(answer) is None  # optional: prints, never raises
    assert capsys.readouterr().out.strip().endswith(outcome.message + "\033[0m")


def test_cross_entropy_not_attempted_prints_one_line(capsys):
    def placeholder(z, y):
        raise NotImplementedError("Optional challenge: write your code here, then delete this line")

    outcome = pt.test_cross_entropy_from_logits(placeholder, return_outcome=True)
    assert outcome.status == "not attempted"
    capsys.readouterr()
    pt.test_cross_entropy_from_logits(placeholder)
    assert capsys.readouterr().out == ("test_cross_entropy_from_logits: the optional challenge is "
                                       "not attempted yet; you can skip it.\n")


def test_cross_entropy_is_judged_against_keras():
    for z, y in pt._cross_entropy_examples():
        expected = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(
            np.array([y]), np.asarray(z, dtype=np.float32).reshape(1, -1))
        assert pt._keras_cross_entropy(z, y) == pytest.approx(float(expected))
        assert pt.cross_entropy_output_problem(z, y, cross_entropy_answers.log_sum_exp(z, y)) == ""
    kinds = [kind for kind, _, _ in pt.cross_entropy_inputs_of_every_kind(np.random.default_rng(1))]
    assert kinds == ["one class", "ten classes", "confident and right", "confident and wrong",
                     "logits up to 1000", "float32", "integers"]


# ---- Exercise 2: the model ---------------------------------------------------------------------

def _snapshot(model):
    """Everything a later cell could notice about a model."""
    optimizer = getattr(model, "optimizer", None)
    return {
        "built": model.built,
        "name": model.name,
        "layers": [(layer.name, layer.built, type(layer).__name__) for layer in model.layers],
        "weights": model.get_weights(),
        "compiled": getattr(model, "compiled", None),
        "optimizer": optimizer,
        "optimizer built": getattr(optimizer, "built", None),
        "optimizer variables": [v.numpy() for v in getattr(optimizer, "variables", [])],
        "loss": getattr(model, "loss", None),
    }


def _assert_unchanged(before, after):
    assert after.keys() == before.keys()
    for key in before:
        if key in ("weights", "optimizer variables"):
            assert len(after[key]) == len(before[key])
            assert all(np.array_equal(a, b) for a, b in zip(before[key], after[key])), key
        elif key == "optimizer":
            assert after[key] is before[key]
        else:
            assert after[key] == before[key], key


def test_model_catalogue_is_big_enough():
    assert len(model_answers.CORRECT) >= 10 and len(model_answers.WRONG) >= 15
    ids = _ids(model_answers.CORRECT) + _ids(model_answers.WRONG)
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("name, build", model_answers.CORRECT, ids=_ids(model_answers.CORRECT))
def test_correct_model_passes_and_is_unchanged(capsys, name, build):
    model = build()
    before = _snapshot(model)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pt.test_model(model, 10, 400)
    assert capsys.readouterr() == (PASS["test_model"], "")
    assert [str(w.message) for w in caught] == []  # the check itself warns about nothing
    _assert_unchanged(before, _snapshot(model))


@pytest.mark.parametrize("name, build, hint", model_answers.WRONG, ids=_ids(model_answers.WRONG))
def test_wrong_model_fails_with_its_hint(capsys, name, build, hint):
    model = build()
    before = _snapshot(model) if isinstance(model, keras.Model) else None
    message = _failure("test_model", model, 10, 400)
    assert hint in message
    _assert_message_shape(message, "test_model")
    assert capsys.readouterr().out == ""
    if before is not None:
        _assert_unchanged(before, _snapshot(model))


@pytest.mark.parametrize("layers", [[], [keras.Input(shape=(400,))]], ids=["empty", "input_only"])
def test_model_not_implemented_is_a_friendly_message(layers):
    message = _failure("test_model", keras.Sequential(layers, name="my_model"), 10, 400)
    assert message.startswith("Exercise 2 is not implemented yet")
    assert "### START CODE HERE ###" in message and "run that cell again" in message


def test_model_check_draws_no_random_numbers(capsys):
    """Later cells (training) see the same random state as without the check."""
    keras.utils.set_random_seed(1234)
    model = model_answers.notebook_solution()
    states = (random.getstate(), np.random.get_state()[1].copy())
    pt.test_model(model, 10, 400)
    assert random.getstate() == states[0]
    assert np.array_equal(np.random.get_state()[1], states[1])


def test_unbuilt_model_fails_and_stays_unbuilt():
    model = model_answers.no_input_size()
    message = _failure("test_model", model, 10, 400)
    assert "has not created its weights yet" in message
    assert not model.built and model.get_weights() == []


def test_compiled_model_keeps_its_optimizer_state(capsys):
    model = model_answers.compiled_already()
    model.optimizer.build(model.trainable_variables)
    before = _snapshot(model)
    pt.test_model(model, 10, 400)
    _assert_unchanged(before, _snapshot(model))
    assert before["optimizer built"] and before["compiled"]


def test_model_check_bug_is_an_assertion(monkeypatch):
    def broken(model):
        raise AttributeError("no such thing")

    monkeypatch.setattr(pt, "_declared_input_shape", broken)
    message = _failure("test_model", model_answers.notebook_solution(), 10, 400)
    assert message.startswith("test_model failed: the check itself stopped on AttributeError")


# ---- the module ----------------------------------------------------------------------------------

def test_importing_public_tests_does_not_import_keras_or_tensorflow():
    code = ("import sys, public_tests; "
            "print(sorted(m for m in ('keras', 'tensorflow') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip() == "[]"
