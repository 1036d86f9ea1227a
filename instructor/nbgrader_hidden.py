"""The hidden checks of :mod:`instructor.hidden_checks`, applied inside a notebook's kernel.

Under nbgrader there is no grader process beside the kernel: the hidden tests run in the test
cell itself, on the student's live objects. This module is the bridge. ``python -m instructor
export-nbgrader`` embeds its source, with the source of ``hidden_checks.py``, between nbgrader's
hidden-test markers (nbgrader removes that region from the students' copy and puts it back to
autograde), so there is still one definition of each hidden check.

It imports nothing of this project (its source runs alone inside the kernel): the hidden checks
and retraining modules are passed in. Each ``*_failures`` function returns the same messages the grader reports;
:func:`assert_passes` turns them into the AssertionError that makes nbgrader give the cell 0.
"""
import numpy as np


def softmax_failures(hidden_checks, function):
    """Failures of ``function`` (the student's softmax) on the hidden inputs.

    Calls it on a copy of each hidden input, exactly once each, in order, and records the calls
    the way the grader's probe does, so ``hidden_checks.check_softmax_calls`` and
    ``check_softmax_kept_input`` judge them unchanged.
    """
    inputs = hidden_checks.softmax_inputs()
    calls, arrays = [], {}
    for number, z in enumerate(inputs):
        given = z.copy()
        call = {"input": f"in_{number}", "input_after": f"after_{number}"}
        arrays[call["input"]] = z
        try:
            result = function(given)
        except Exception as error:  # the student's error is a failure to report, not a crash
            call["exception"] = {"type": type(error).__name__, "message": str(error)}
        else:
            call["value"] = result
            call["kind"] = "ndarray" if isinstance(result, np.ndarray) else "other"
            call["output_type"] = f"{type(result).__module__}.{type(result).__qualname__}"
        arrays[call["input_after"]] = given
        calls.append(call)
    return (hidden_checks.check_softmax_calls(inputs, calls, lambda call: call["value"])
            + hidden_checks.check_softmax_kept_input(calls, arrays))


def model_failures(hidden_checks, model, retrain):
    """Failures of the student's ``model``, judged as the grader judges it: its architecture is
    rebuilt from its Keras config and trained with the lab's settings (``retrain``, the module
    :mod:`instructor.retrain`), then ``hidden_checks.check_model`` runs on that copy.

    The check cell comes before the notebook's training cell, so the student's own model is not
    trained yet; the copy is. Rebuilding sets the lab's seed, as the notebook does before it
    builds the model: the cells after the check then run from that seed.
    """
    import keras
    from autils import load_data

    X, y = load_data()
    try:
        config = keras.saving.serialize_keras_object(model)
    except Exception as error:  # a model Keras cannot describe: report it as the grader does
        return [f"the architecture of model ({type(model).__name__}) could not be read: "
                f"{type(error).__name__}: {str(error)[:300]}"]
    try:
        rebuilt = retrain.build(config, keras)
        retrain.train(rebuilt, keras, X, y)
    except retrain.ArchitectureError as error:
        return [f"the grader could not retrain your architecture: {error}"]
    return hidden_checks.check_model(rebuilt, keras, X, y)


def assert_passes(title, failures):
    """Raise AssertionError naming the exercise and every failure, if there is any."""
    if failures:
        raise AssertionError(f"{title}: the hidden checks failed:\n- " + "\n- ".join(failures))
    print(f"{title}: hidden checks passed")
