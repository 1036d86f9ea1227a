"""Hidden checks: the public checks' rules on values the student never saw, plus training.

They try other VALUES than the public checks, never other KINDS: the kinds of input, what a right
answer is, and what counts as "relu", "linear" and "built" all come from the instructor's
``public_tests.py``, so a student who sees "All tests passed!" is judged by the same rules here.
Each check returns a list of failure messages (empty when it passes), written for the instructor
(they name the hidden inputs); students see them only as :mod:`instructor.reports.feedback`
describes them.

The same functions serve two engines: the grader calls them in its own process with
:class:`~instructor.grading.values.RemoteFunction` (the student's function answering from the
kernel), and the nbgrader export embeds this module in its hidden tests, where they call the
student's live function. The inputs come from a seed the caller derives from a secret
(:func:`seed_for`): per grading run for the grader, per export for nbgrader; this module holds
no secret of its own.
"""
import hashlib
import hmac

import numpy as np

TRAINING_ACCURACY_MIN = 0.95
EXPECTED_LAYERS = [(25, "relu"), (15, "relu"), (10, "linear")]
EXPECTED_INPUT_SIZE = 400
EXPECTED_PARAMETERS = 10_575


def _public_tests():
    """The instructor's public_tests module (the nbgrader export replaces this function with
    the kernel's own public_tests, which nbgrader restores from the source folder)."""
    from instructor.lab.files import instructor_module
    return instructor_module("public_tests")


def seed_for(secret, name, exercise):
    """The seed of the hidden inputs of one exercise for one submission: an HMAC of the secret
    (bytes) with the submission's name and the exercise's id, so that the inputs differ from
    submission to submission and cannot be derived without the secret."""
    digest = hmac.new(secret, f"{name}\0{exercise}".encode("utf-8", "surrogatepass"), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big")


def softmax_inputs(seed):
    """The hidden inputs of a softmax exercise: one 1-D array (N,) of every kind the public check
    tries (public_tests.softmax_inputs_of_every_kind), with values drawn from ``seed``."""
    kinds = _public_tests().softmax_inputs_of_every_kind(np.random.default_rng(seed))
    return [z for _, z in kinds]


def cross_entropy_inputs(seed):
    """The hidden examples (z, y) of the cross-entropy challenge, one of every kind the public
    check tries (public_tests.cross_entropy_inputs_of_every_kind), drawn from ``seed``."""
    kinds = _public_tests().cross_entropy_inputs_of_every_kind(np.random.default_rng(seed))
    return [(z, y) for _, z, y in kinds]


def _called(function, arguments):
    """(result, None) or (None, "raised ..."); the function gets copies of array arguments, and
    whether it changed them is returned too."""
    copies = [argument.copy() if isinstance(argument, np.ndarray) else argument
              for argument in arguments]
    try:
        result = function(*copies)
    except Exception as error:
        first = (str(error).strip().splitlines() or [""])[0]
        return None, f"raised {type(error).__name__}: {first[:120]}", False
    changed = any(isinstance(a, np.ndarray) and not np.array_equal(a, b, equal_nan=True)
                  for a, b in zip(copies, arguments))
    return result, None, changed


def check_softmax(function, inputs):
    """Failures of the student's softmax ``function`` on the hidden ``inputs``."""
    failures = []
    for number, z in enumerate(inputs, start=1):
        label = f"hidden input {number} (shape {z.shape}, {z.dtype})"
        result, error, changed = _called(function, [z])
        if error:
            failures.append(f"{label}: {error}")
            continue
        if changed:
            failures.append(f"{label}: the function changed its input array")
        problem = _public_tests().softmax_output_problem(z, result)
        if problem:
            failures.append(f"{label}: {problem.removeprefix('hidden check failed: ')}")
    return failures


def check_cross_entropy(function, examples):
    """Failures of the student's ``cross_entropy_from_logits`` on the hidden ``examples``."""
    failures = []
    for number, (z, y) in enumerate(examples, start=1):
        label = f"hidden example {number} (N = {len(z)}, {z.dtype}, y = {y})"
        result, error, changed = _called(function, [z, y])
        if error:
            failures.append(f"{label}: {error}")
            continue
        if changed:
            failures.append(f"{label}: the function changed its input array")
        problem = _public_tests().cross_entropy_output_problem(z, y, result)
        if problem:
            failures.append(f"{label}: {problem.removeprefix('hidden check failed: ')}")
    return failures


FUNCTION_CHECKS = {"softmax": (softmax_inputs, check_softmax),
                   "cross_entropy": (cross_entropy_inputs, check_cross_entropy)}


def check_function(kind, function, seed):
    """The hidden check of a function exercise of ``kind`` (the lab spec's), on inputs drawn
    from ``seed``."""
    draw, check = FUNCTION_CHECKS[kind]
    return check(function, draw(seed))


def check_model(model, keras, X, y):
    """Failures of the student's trained model: exact architecture, parameters, and training.

    Args:
      model: the model the grader trained in its own process.
      keras: the keras module (imported by the caller).
      X (ndarray (m, 400)), y (ndarray (m, 1)): the instructor's digits.
    """
    failures = check_architecture(model, keras)
    if failures:
        return failures
    logits = np.asarray(model.predict(X, verbose=0, batch_size=len(X)))
    if logits.shape != (len(X), 10) or not np.all(np.isfinite(logits)):
        return [f"hidden: predictions have shape {logits.shape} or are not finite"]
    accuracy = float(np.mean(np.argmax(logits, axis=1) == y.ravel()))
    if accuracy < TRAINING_ACCURACY_MIN:
        failures.append(f"hidden: the trained model recognises {accuracy:.1%} of the training "
                        f"digits, expected at least {TRAINING_ACCURACY_MIN:.0%}")
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
