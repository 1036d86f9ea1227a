"""The public checks and the grader's hidden checks agree on every answer in the catalogues.

A student who sees "All tests passed!" must not get 0 from the grader for a kind of input or model
the public check never tried, and an answer the grader accepts must not crash the student's own
notebook. So: the hidden softmax inputs are, for any seed, of the kinds the public check tries;
every honest softmax passes the hidden check on inputs from several seeds; every honest model
passes both checks after the grader's save and reload (and after from_config); and every wrong
answer the hidden checks reject is rejected by the public check too, with its hint.
"""
import warnings

import keras
import numpy as np
import pytest

import model_answers
import public_tests as pt
import softmax_answers
from instructor import hidden_checks
from instructor.exercise_checks import instructor_module
from instructor.softmax_replay import RecordedFunction

SEEDS = [hidden_checks.SECRET_SEED, 1, 2, 3]


def _ids(catalogue):
    return [entry[0] for entry in catalogue]


def _kind(z):
    """What makes two inputs the same kind for a softmax: dtype, one value or many, size class,
    all equal or not, and whether e^z underflows in float32."""
    return (z.dtype.str, min(len(z), 3) if len(z) < 100 else "many",
            bool(np.all(z == z[0])) and len(z) > 1, bool(np.max(z) < -80))


def _record(answer, inputs):
    """What the grader's kernel records: per input, the result or the exception, and the input
    as the function left it. Returns (calls, arrays) in the grader's format."""
    calls, arrays = [], {}
    for number, z in enumerate(inputs):
        given = z.copy()
        call = {"input": f"in{number}", "input_after": f"after{number}"}
        arrays[call["input"]] = z.copy()
        try:
            with np.errstate(all="ignore"):
                call["value"] = answer(given)
        except Exception as error:
            call["exception"] = {"type": type(error).__name__, "message": str(error)}
        arrays[call["input_after"]] = given
        calls.append(call)
    return calls, arrays


def _hidden_failures(answer, seed):
    inputs = hidden_checks.softmax_inputs(seed)
    calls, arrays = _record(answer, inputs)
    return (hidden_checks.check_softmax_calls(inputs, calls, lambda call: call["value"])
            + hidden_checks.check_softmax_kept_input(calls, arrays))


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
    inputs = hidden_checks.softmax_inputs(1)
    calls, _ = _record(softmax_answers.loops_with_zeros_like, inputs)
    failures = hidden_checks.check_softmax_calls(inputs, calls, lambda call: call["value"])
    assert len(failures) == 1 and "(shape (9,), int64)" in failures[0]
    assert "np.zeros_like(z) copies z's dtype" in failures[0]


@pytest.mark.parametrize("answer", [softmax_answers.plain_formula, softmax_answers.forgot_exp,
                                    softmax_answers.divided_by_max_of_z,
                                    softmax_answers.loops_with_zeros_like],
                         ids=["plain", "forgot_exp", "max_of_z", "zeros_like"])
def test_replayed_recording_gets_the_same_verdict(answer):
    """The grader replays the kernel's recording through the same check: its calls, tie-breaks
    included, must be deterministic, so the verdict and message are the student's."""
    recorded = []

    def recorder(z):
        recorded.append(z.copy())
        return answer(z)

    live = _public_outcome("test_my_softmax", recorder)
    calls, arrays = _record(answer, recorded)
    for call in calls:
        value = call.pop("value", None)
        if "exception" not in call:
            arrays[f"out{call['input']}"] = value
            call.update(kind="ndarray", output=f"out{call['input']}")
    replay = RecordedFunction(answer.__name__, calls, arrays)
    replayed = _public_outcome("test_my_softmax", replay)
    assert (replayed.status, replayed.message.replace("recorder", answer.__name__)) == (
        live.status, live.message.replace("recorder", answer.__name__))
    assert replay.calls_left == 0


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
    from instructor.exercise_checks import run_public_check
    passed, message = run_public_check("test_my_softmax_stable", softmax_answers.plain_formula)
    assert not passed and "overflows" in message
