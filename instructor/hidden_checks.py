"""Hidden checks: the public checks on secret values, plus training; run only by the grader, never shipped.

They run in the grader's own process on the kernel probe's signed evidence (the student's softmax
outputs on hidden inputs drawn per submission, see :mod:`instructor.evidence`) and on the
student's architecture retrained by the grader (:mod:`instructor.retrain`).
Each check returns a list of failure messages (empty when it passes), written for the instructor.

They try other VALUES than the public checks, never other KINDS: the kinds of softmax input, what
a right probability is, and what counts as "relu", "linear" and "built" all come from the
instructor's ``public_tests.py``, so a student who sees "All tests passed!" is judged by the same
rules here.
"""
import numpy as np

# Never shipped, so the inputs stay unknown to students: a fixed seed keeps grades reproducible.
SECRET_SEED = 0x5EC12E7_2024
TRAINING_ACCURACY_MIN = 0.95
EXPECTED_LAYERS = [(25, "relu"), (15, "relu"), (10, "linear")]
EXPECTED_INPUT_SIZE = 400
EXPECTED_PARAMETERS = 10_575


def _public_tests():
    """The instructor's public_tests module, the one the grader runs (loaded here at call time:
    exercise_checks imports this module)."""
    from instructor.exercise_checks import instructor_module
    return instructor_module("public_tests")


def softmax_inputs(seed=SECRET_SEED):
    """The hidden inputs for the student's softmax: one 1-D array (N,) of every kind the public
    check tries (public_tests.softmax_inputs_of_every_kind), with values drawn from ``seed``."""
    kinds = _public_tests().softmax_inputs_of_every_kind(np.random.default_rng(seed))
    return [z for _, z in kinds]


def check_softmax_calls(inputs, calls, value_of):
    """Failures of the student's softmax on the hidden ``inputs``.

    Args:
      inputs: the arrays the grader passed, in order.
      calls: the recorded calls (see kernel_probe.py), one per input, in the same order.
      value_of: function(call) -> the value the student's function returned.
    """
    if len(calls) != len(inputs):
        return [f"hidden: recorded {len(calls)} calls for {len(inputs)} hidden inputs (the "
                f"function stopped the grader's loop)"]
    failures = []
    for number, (z, call) in enumerate(zip(inputs, calls), start=1):
        label = f"hidden input {number} (shape {z.shape}, {z.dtype})"
        if "exception" in call:
            first_line = (call["exception"]["message"].strip().splitlines() or [""])[0]
            failures.append(f"{label}: raised {call['exception']['type']}: {first_line[:120]}")
            continue
        failure = _check_one_softmax(z, call, value_of)
        if failure:
            failures.append(f"{label}: {failure}")
    return failures


def _check_one_softmax(z, call, value_of):
    """The public check's verdict on one recorded result: "" or what is wrong."""
    problem = _public_tests().softmax_output_problem(z, value_of(call))
    return problem.removeprefix("hidden check failed: ")


def check_softmax_kept_input(calls, arrays):
    """Failures for calls that changed the array they were given."""
    return [f"hidden input {number}: the function changed its input array"
            for number, call in enumerate(calls, start=1)
            if call.get("input_after") in arrays
            and not np.array_equal(arrays[call["input"]], arrays[call["input_after"]])]


def check_model(model, keras, X, y):
    """Failures of the student's trained model: exact architecture, parameters, and training.

    Args:
      model: the model the grader trained (or loaded) in its own process.
      keras: the keras module (imported by the caller).
      X (ndarray (m, 400)), y (ndarray (m, 1)): the instructor's digits.
    """
    failures = check_architecture(model, keras)
    if failures:
        return failures
    logits = np.asarray(model.predict(X, verbose=0, batch_size=1000))
    if logits.shape != (len(X), 10) or not np.all(np.isfinite(logits)):
        return [f"hidden: predictions have shape {logits.shape} or are not finite"]
    accuracy = float(np.mean(np.argmax(logits, axis=1) == y.ravel()))
    if accuracy < TRAINING_ACCURACY_MIN:
        failures.append(f"hidden: the trained model recognises {accuracy:.1%} of the training "
                        f"digits, expected at least {TRAINING_ACCURACY_MIN:.0%} (was it trained "
                        f"by the notebook's training cell?)")
    if np.allclose(logits.sum(axis=1), 1.0, atol=1e-3) and np.all(logits >= 0):
        failures.append("hidden: the outputs are probabilities (a softmax output layer); "
                        "expected logits from a linear output layer")
    return failures


def check_architecture(model, keras):
    """Failures of the model's architecture alone (no data, no training): a built Sequential of
    Dense(25, relu), Dense(15, relu), Dense(10, linear) with biases, inputs (None, 400) and
    10,575 parameters. "relu", "linear" and "built" are the public check's definitions."""
    public = _public_tests()
    if not isinstance(model, keras.Sequential):
        return [f"hidden: the model is a {type(model).__name__}, expected a Sequential model"]
    failures = []
    layers = list(model.layers)
    described = ", ".join(_describe_layer(layer, public, keras) for layer in layers)
    if len(layers) != len(EXPECTED_LAYERS) or not all(isinstance(l, keras.layers.Dense) for l in layers):
        return [f"hidden: layers are [{described}], expected 3 Dense layers 25 relu, 15 relu, 10 linear"]
    for number, (layer, (units, activation)) in enumerate(zip(layers, EXPECTED_LAYERS), start=1):
        got_activation = (public.saved_activation_kind(layer, keras)
                          or "an activation lost or changed when Keras saves it")
        if layer.units != units or got_activation != activation:
            failures.append(f"hidden: layer {number} is Dense({layer.units}, {got_activation}), "
                            f"expected Dense({units}, {activation})")
        if not layer.use_bias:
            failures.append(f"hidden: layer {number} has no bias")
    if not public.is_built(model):
        return failures + ["hidden: the model is not built (no input size), expected inputs "
                           f"(None, {EXPECTED_INPUT_SIZE})"]
    input_shape = tuple(model.input_shape)
    if input_shape != (None, EXPECTED_INPUT_SIZE):
        failures.append(f"hidden: input shape {input_shape}, expected (None, {EXPECTED_INPUT_SIZE})")
    parameters = model.count_params()
    if parameters != EXPECTED_PARAMETERS:
        failures.append(f"hidden: {parameters} parameters, expected {EXPECTED_PARAMETERS:,}")
    return failures


def _describe_layer(layer, public, keras):
    units = getattr(layer, "units", None)
    if units is None:
        return type(layer).__name__
    return f"{type(layer).__name__}({units}, {public.activation_kind(layer.activation, keras)})"
