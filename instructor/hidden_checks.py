"""Hidden checks: stricter than public_tests.py, run only by the grader, never shipped.

They run in the grader's own process on what the extract probe recorded (the student's softmax
outputs on inputs chosen here) and on the student's trained model loaded from ``model.keras``.
Each check returns a list of failure messages (empty when it passes), written for the instructor.
"""
import numpy as np

# Never shipped, so the inputs stay unknown to students: a fixed seed keeps grades reproducible.
SECRET_SEED = 0x5EC12E7_2024
TRAINING_ACCURACY_MIN = 0.95
EXPECTED_LAYERS = [(25, "relu"), (15, "relu"), (10, "linear")]
EXPECTED_INPUT_SIZE = 400
EXPECTED_PARAMETERS = 10_575


def softmax_inputs(seed=SECRET_SEED):
    """The hidden inputs for the student's softmax: 1-D arrays of several sizes and dtypes."""
    rng = np.random.default_rng(seed)
    return [
        rng.normal(0.0, 2.0, 1),  # shape (1,): the only probability is 1
        rng.normal(0.0, 4.0, 2),
        rng.normal(0.0, 4.0, 10),  # ten classes, like the network's output
        rng.uniform(-30.0, 30.0, 37),
        rng.normal(0.0, 1.0, 1000),
        np.full(6, rng.uniform(-20.0, 20.0)),  # all equal: uniform probabilities
        rng.normal(0.0, 3.0, 7).astype(np.float32),  # float32, as a network's logits are
        rng.integers(-5, 6, 9),  # integers: the result must still be floats
        rng.normal(-300.0, 1.0, 5),  # all very negative, yet e^z is still above the float64 minimum
    ]


def _reference_softmax(z):
    z = np.asarray(z, dtype=np.float64)
    ez = np.exp(z - np.max(z))
    return ez / np.sum(ez)


def check_softmax_calls(inputs, calls, value_of):
    """Failures of the student's softmax on the hidden ``inputs``.

    Args:
      inputs: the arrays the grader passed, in order.
      calls: the recorded calls (see probes.py), one per input, in the same order.
      value_of: function(call) -> the value the student's function returned.
    """
    if len(calls) != len(inputs):
        return [f"hidden: recorded {len(calls)} calls for {len(inputs)} hidden inputs (the "
                f"function stopped the grader's loop)"]
    failures = []
    for number, (z, call) in enumerate(zip(inputs, calls), start=1):
        label = f"hidden input {number} (shape {z.shape}, {z.dtype})"
        if "exception" in call:
            failures.append(f"{label}: raised {call['exception']['type']}: "
                            f"{call['exception']['message'][:120]}")
            continue
        failure = _check_one_softmax(z, call, value_of)
        if failure:
            failures.append(f"{label}: {failure}")
    return failures


def _check_one_softmax(z, call, value_of):
    if call.get("kind") != "ndarray":
        return f"returned {call.get('output_type')}, expected a NumPy array"
    a = value_of(call)
    if a.shape != z.shape:
        return f"returned shape {a.shape}, expected {z.shape}"
    if a.dtype.kind != "f":
        return f"returned dtype {a.dtype}, expected floats"
    if not np.all(np.isfinite(a)):
        return "returned nan or inf"
    tolerance = 1e-4 if a.dtype == np.float32 or z.dtype == np.float32 else 1e-6
    expected = _reference_softmax(z)
    if not np.isclose(np.sum(a, dtype=np.float64), 1.0, rtol=0, atol=tolerance):
        return f"probabilities add up to {np.sum(a):.6g}, not 1"
    if not np.allclose(a.astype(np.float64), expected, rtol=tolerance, atol=1e-12):
        worst = int(np.argmax(np.abs(a - expected)))
        return f"a[{worst}] = {a[worst]:.6g}, expected {expected[worst]:.6g}"
    return ""


def check_softmax_kept_input(calls, arrays):
    """Failures for calls that changed the array they were given."""
    return [f"hidden input {number}: the function changed its input array"
            for number, call in enumerate(calls, start=1)
            if call.get("input_after") in arrays
            and not np.array_equal(arrays[call["input"]], arrays[call["input_after"]])]


def check_model(model, keras, X, y):
    """Failures of the student's trained model: exact architecture, parameters, and training.

    Args:
      model: the model loaded from the student's model.keras in the grader's process.
      keras: the keras module (imported by the caller).
      X (ndarray (m, 400)), y (ndarray (m, 1)): the instructor's digits.
    """
    if not isinstance(model, keras.Sequential):
        return [f"hidden: the model is a {type(model).__name__}, expected a Sequential model"]
    failures = []
    layers = list(model.layers)
    described = ", ".join(_describe_layer(layer) for layer in layers)
    if len(layers) != len(EXPECTED_LAYERS) or not all(isinstance(l, keras.layers.Dense) for l in layers):
        return [f"hidden: layers are [{described}], expected 3 Dense layers 25 relu, 15 relu, 10 linear"]
    for number, (layer, (units, activation)) in enumerate(zip(layers, EXPECTED_LAYERS), start=1):
        config = layer.get_config()
        got_activation = config.get("activation") or "linear"
        if isinstance(got_activation, dict):  # a serialised custom or wrapped activation
            got_activation = got_activation.get("config", {}).get("name", str(got_activation))
        if layer.units != units or got_activation != activation:
            failures.append(f"hidden: layer {number} is Dense({layer.units}, {got_activation}), "
                            f"expected Dense({units}, {activation})")
        if not config.get("use_bias", True):
            failures.append(f"hidden: layer {number} has no bias")
    try:
        input_shape = tuple(model.input_shape)
    except (AttributeError, ValueError):
        input_shape = None
    if input_shape != (None, EXPECTED_INPUT_SIZE):
        failures.append(f"hidden: input shape {input_shape}, expected (None, {EXPECTED_INPUT_SIZE})")
    try:
        parameters = model.count_params()
    except ValueError:
        parameters = None
    if parameters != EXPECTED_PARAMETERS:
        failures.append(f"hidden: {parameters} parameters, expected {EXPECTED_PARAMETERS:,}")
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


def _describe_layer(layer):
    units = getattr(layer, "units", None)
    if units is None:
        return type(layer).__name__
    return f"{type(layer).__name__}({units}, {layer.get_config().get('activation')})"
