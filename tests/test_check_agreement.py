"""The public checks and the grader's hidden checks agree on every answer in the catalogues.

A student who sees "All tests passed!" must not get 0 from the grader for a kind of input or model
the public check never tried, and an answer the grader accepts must not crash the student's own
notebook. So: the hidden inputs are, for any seed, of the kinds the public checks try; every
honest softmax and cross-entropy passes the hidden check on inputs from several seeds; every
honest model passes both checks after the grader's save and reload (and after from_config); and
every wrong answer the hidden checks reject is rejected by the public check too, with its hint.
"""
import warnings

import keras
import numpy as np
import pytest

import cross_entropy_answers
import model_answers
import public_tests as pt
import softmax_answers
from instructor.grading import hidden_checks
from instructor.grading.exercises import run_public_check
from instructor.lab.files import instructor_module

SEEDS = [hidden_checks.seed_for(b"a secret", "alice", "exercise_1"), 1, 2, 3]


def _ids(catalogue):
    return [entry[0] for entry in catalogue]


def _kind(z):
    """What makes two inputs the same kind for a softmax: dtype, one value or many, size class,
    all equal or not, and whether e^z underflows in float32."""
    return (z.dtype.str, min(len(z), 3) if len(z) < 100 else "many",
            bool(np.all(z == z[0])) and len(z) > 1, bool(np.max(z) < -80))


def _hidden_failures(answer, seed):
    with np.errstate(all="ignore"):
        return hidden_checks.check_softmax(answer, hidden_checks.softmax_inputs(seed))


def _public_outcome(check, *args):
    return getattr(pt, check)(*args, return_outcome=True)


# ---- softmax --------------------------------------------------------------------------------

def test_hidden_checks_use_the_instructors_public_tests():
    assert instructor_module("public_tests").__file__ == pt.__file__


@pytest.mark.parametrize("seed", SEEDS)
def test_hidden_inputs_are_kinds_the_public_check_tries(seed):
    public_kinds = {_kind(z) for z in pt._basic_inputs()}
    hidden = hidden_checks.softmax_inputs(seed)
    assert len(hidden) == len(pt.softmax_inputs_of_every_kind(np.random.default_rng(0)))
    for z in hidden:
        assert _kind(z) in public_kinds, f"hidden input of a kind the public check never tries: {z}"


def test_hidden_inputs_are_the_same_for_the_same_seed_and_differ_across_seeds():
    first, again = hidden_checks.softmax_inputs(7), hidden_checks.softmax_inputs(7)
    other = hidden_checks.softmax_inputs(8)
    assert all(np.array_equal(a, b) and a.dtype == b.dtype for a, b in zip(first, again))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))


@pytest.mark.parametrize("name, answer", softmax_answers.CORRECT, ids=_ids(softmax_answers.CORRECT))
def test_honest_softmax_passes_the_hidden_check_for_every_seed(name, answer):
    assert _public_outcome("test_my_softmax", answer).status == "passed"
    for seed in SEEDS:
        assert _hidden_failures(answer, seed) == [], f"seed {seed}"


@pytest.mark.parametrize("name, answer, hint", softmax_answers.WRONG,
                         ids=_ids(softmax_answers.WRONG))
def test_softmax_the_hidden_check_rejects_the_public_check_rejects_with_its_hint(name, answer,
                                                                                  hint):
    rejected_by_hidden = any(_hidden_failures(answer, seed) for seed in SEEDS)
    outcome = _public_outcome("test_my_softmax", answer)
    if rejected_by_hidden:
        assert outcome.status in ("failed", "not attempted")
    assert outcome.status == "failed" and hint in outcome.message


def test_hidden_message_is_the_public_verdict():
    failures = hidden_checks.check_softmax(softmax_answers.loops_with_zeros_like,
                                           hidden_checks.softmax_inputs(1))
    assert len(failures) == 1 and "(shape (9,), int64)" in failures[0]
    assert "np.zeros_like(z) copies z's dtype" in failures[0]


def test_seeds_differ_per_submission_exercise_and_secret():
    seeds = {hidden_checks.seed_for(secret, name, exercise)
             for secret in (b"one", b"two") for name in ("alice", "bob")
             for exercise in ("exercise_1", "challenge_cross_entropy")}
    assert len(seeds) == 8
    assert hidden_checks.seed_for(b"one", "alice", "x") == hidden_checks.seed_for(b"one", "alice", "x")


# ---- the cross-entropy challenge ------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_hidden_cross_entropy_examples_are_kinds_the_public_check_tries(seed):
    hidden = hidden_checks.cross_entropy_inputs(seed)
    public = pt.cross_entropy_inputs_of_every_kind(np.random.default_rng(seed))
    assert [(z.dtype, len(z)) for z, _ in hidden] == [(z.dtype, len(z)) for _, z, _ in public]
    assert all(type(y) is int and 0 <= y < len(z) for z, y in hidden)


@pytest.mark.parametrize("name, answer", cross_entropy_answers.CORRECT,
                         ids=_ids(cross_entropy_answers.CORRECT))
def test_honest_cross_entropy_passes_the_hidden_check_for_every_seed(name, answer):
    assert _public_outcome("test_cross_entropy_from_logits", answer).status == "passed"
    for seed in SEEDS:
        assert hidden_checks.check_cross_entropy(answer, hidden_checks.cross_entropy_inputs(seed)) == []


@pytest.mark.parametrize("name, answer, hint", cross_entropy_answers.WRONG,
                         ids=_ids(cross_entropy_answers.WRONG))
def test_cross_entropy_the_hidden_check_rejects_the_public_check_rejects(name, answer, hint):
    with np.errstate(all="ignore"):
        rejected = any(hidden_checks.check_cross_entropy(answer, hidden_checks.cross_entropy_inputs(seed))
                       for seed in SEEDS)
    outcome = _public_outcome("test_cross_entropy_from_logits", answer)
    assert outcome.status == "failed" and hint in outcome.message
    assert rejected or name == "right_values_wrong_slopes"  # values right wherever it is called


# ---- the model ------------------------------------------------------------------------------

def _round_trips(model, tmp_path):
    """The model as the grader gets it back: saved and loaded in safe mode, and rebuilt from its
    config."""
    path = tmp_path / "model.keras"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save(path)
    loaded = keras.models.load_model(path, compile=False, safe_mode=True)
    rebuilt = keras.Sequential.from_config(model.get_config())
    return {"loaded": loaded, "from_config": rebuilt}


@pytest.mark.parametrize("name, build", model_answers.CORRECT, ids=_ids(model_answers.CORRECT))
def test_honest_model_passes_both_checks_after_the_graders_round_trip(name, build, tmp_path,
                                                                      capsys):
    model = build()
    assert _public_outcome("test_model", model, 10, 400).status == "passed"
    for layer in model.layers:  # the notebook's next cell must not crash on it
        W, b = layer.get_weights()
    for how, copy in _round_trips(model, tmp_path).items():
        assert _public_outcome("test_model", copy, 10, 400).status == "passed", how
        assert hidden_checks.check_architecture(copy, keras) == [], how


@pytest.mark.parametrize("name, build, hint", model_answers.WRONG, ids=_ids(model_answers.WRONG))
def test_model_the_hidden_check_rejects_the_public_check_rejects_with_its_hint(name, build, hint,
                                                                               tmp_path):
    model = build()
    if isinstance(model, keras.Model):
        assert hidden_checks.check_architecture(model, keras) != []
    outcome = _public_outcome("test_model", model, 10, 400)
    assert outcome.status == "failed" and hint in outcome.message


def test_hidden_check_names_an_unbuilt_model():
    failures = hidden_checks.check_architecture(model_answers.no_input_size(), keras)
    assert failures == ["hidden: the model is not built (no input size), expected inputs "
                        "(None, 400)"]


# ---- the optional challenge, as the grader reads it ---------------------------------------------

def test_wrong_challenge_is_a_failure_the_grader_can_read_without_an_exception():
    outcome = instructor_module("public_tests").test_my_softmax_stable(
        softmax_answers.plain_formula, return_outcome=True)
    assert outcome.status == "failed" and "overflows" in outcome.message


def test_grader_counts_a_wrong_challenge_as_failed():
    status, message = run_public_check("test_my_softmax_stable", softmax_answers.plain_formula)
    assert status == "failed" and "overflows" in message
