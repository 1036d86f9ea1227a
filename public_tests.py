"""Checks for the graded cells of the multiclass digits lab.

Each graded cell ends with one of these calls:

- ``test_my_softmax(my_softmax)``: Exercise 1, softmax written with NumPy.
- ``test_my_softmax_stable(my_softmax_stable)``: the optional challenge, a softmax that does not
  overflow. It does not fail while the challenge is not attempted, so "Run All" goes on.
- ``test_model(model, 10, 400)``: Exercise 2, the 400 -> 25 -> 15 -> 10 ``Sequential`` model.

On success a check prints one fixed green line and nothing else. On a mistake it raises an
``AssertionError`` whose message names the check, says what was expected and what it got, and
ends with a hint. A check never changes what it is given (the array ``z``, the model, its weights,
NumPy's or Keras's random state). Keras is imported inside ``test_model`` only, so importing this
module is cheap.
"""
import sysconfig
import traceback

import numpy as np

_GREEN, _RESET = "\033[92m", "\033[0m"
_NOT_IMPLEMENTED = ("Exercise {} is not implemented yet: write your code between ### START CODE "
                    "HERE ### and ### END CODE HERE ### {}, then run that cell again.")
_OVERFLOW_HINT = ("e^z overflows to inf for z above about 709 (and inf / inf is nan). Subtract the "
                  "largest value first, z = z - np.max(z): e^(z[j] - m) / (sum of e^(z[k] - m)) is "
                  "the same softmax, and now the largest exponent is e^0 = 1.")


class _Failed(Exception):
    """A check found a mistake; its text is the whole message the student sees."""


class _NotAttempted(Exception):
    """The student's code is still the placeholder of the student notebook."""


def _pass_line(check):
    return f"{_GREEN}{check}: All tests passed!{_RESET}"


def _outcome(check, body, not_attempted):
    """Run ``body()``; return ("passed", None), ("failed", the message for the student), or
    ("not attempted", None) when the exercise is the placeholder and ``not_attempted`` is None
    (otherwise the placeholder fails with the message ``not_attempted``).

    The caller raises the AssertionError after this returns, outside every ``except`` block, so
    the student's traceback is one short frame in the public check, never one into its helpers.
    """
    try:
        body()
    except _NotAttempted:
        return ("not attempted", None) if not_attempted is None else ("failed", not_attempted)
    except _Failed as failure:
        return "failed", str(failure)
    except Exception as error:  # a gap in this check, not the student's mistake
        return "failed", (f"{check} failed: the check itself stopped on {type(error).__name__}: "
                          f"{error}. Hint: this is probably not your mistake; restart the kernel, "
                          f"run all cells again, and ask your teacher if it happens again.")
    return "passed", None


# ----------------------------------------------------------------------------------------------
# Exercise 1: softmax
# ----------------------------------------------------------------------------------------------

def _softmax(z):
    """The reference: softmax of a 1-D array, in float64 and without overflow. (N,) -> (N,)."""
    ez = np.exp(np.asarray(z, dtype=np.float64) - np.max(z))
    return ez / np.sum(ez)


def _basic_inputs():
    """The inputs test_my_softmax tries, simplest first: 1-D float64 arrays with |z| <= 50."""
    rng = np.random.default_rng(2024)  # a private generator: np.random's own state is untouched
    fixed = [
        [1.0, 2.0, 3.0, 4.0],  # the example in the notebook
        [np.log(0.1)] * 10,  # ten equal values: each probability is 0.1
        [0.5],  # N = 1: the only probability is 1
        [-2.0, -1.0, -3.5, -0.25],  # all negative
        [2.0, 2.0, 1.0],  # a tie
        [-1.0, 0.0, 1.0],  # the values add up to 0
        [50.0, -50.0, 0.0, 25.0, -25.0],  # large, yet e^50 still fits in a float
    ]
    drawn = [rng.normal(0.0, 3.0, n) for n in (2, 5, 17, 100)] + [rng.uniform(-50, 50, 8)]
    return [np.array(z, dtype=np.float64) for z in fixed] + drawn


def _large_inputs():
    """The inputs only a stable softmax survives: e^z overflows for z above about 709."""
    rng = np.random.default_rng(2025)
    fixed = [[1000.0, 1001.0, 1002.0], [-1000.0, -1001.0, -1002.0], [1000.0, 0.0, -1000.0],
             [710.0, 710.0, 710.0, 710.0]]
    return [np.array(z, dtype=np.float64) for z in fixed] + [rng.uniform(500, 1000, 20)]


def _fmt(values, precision=4):
    """One-line text of a 1-D array, independent of the notebook's np.set_printoptions."""
    return np.array2string(np.asarray(values, dtype=np.float64), precision=precision,
                           suppress_small=False, threshold=12, edgeitems=3, max_line_width=10**6,
                           separator=" ")


def _function_name(target, default):
    name = getattr(target, "__name__", "")
    return name if name.isidentifier() else default


def _call_student(target, z, check, fname):
    """Call ``target`` on a copy of ``z``; returns (result, the copy it was given).

    An exception in the student's code becomes a _Failed message that names its type, its text and
    the student's line; NotImplementedError (the placeholder) becomes _NotAttempted.
    """
    given = z.copy()
    try:
        result = target(given)
    except NotImplementedError:
        raise _NotAttempted from None
    except Exception as error:
        line = _students_line(error)
        where = f" in the line `{line}`" if line else ""
        raise _Failed(f"{check} failed: your {fname} raised {type(error).__name__}: {error}"
                      f"{where}. Expected it to return {len(z)} probabilities for z = {_fmt(z)}. "
                      f"Hint: {_hint_for_error(error, line, fname)}") from None
    return result, given


def _students_line(error):
    """The last line of the student's own code in the error's traceback ('' if unknown)."""
    libraries = tuple(sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib",
                                                         "platlib"))
    frames = [f for f in traceback.extract_tb(error.__traceback__)[1:]  # [0]: _call_student
              if not f.filename.startswith(libraries) and f.filename != __file__]
    return (frames[-1].line or "").strip() if frames else ""


def _hint_for_error(error, line, fname):
    if isinstance(error, OverflowError):
        return _OVERFLOW_HINT
    if type(error).__name__ == "AxisError":
        return "z is 1-D, so it has only axis 0: np.sum(np.exp(z)) needs no axis= at all."
    if isinstance(error, TypeError) and ("math." in line or "scalar" in str(error)):
        return "math.exp works on one number at a time; use np.exp(z) for a whole array."
    if isinstance(error, ZeroDivisionError):
        return ("you divided by zero, for example by the sum of z; divide by the sum of e^z, "
                "which is never zero.")
    if isinstance(error, NameError):
        return ("a name your code uses is not defined: check its spelling, and that you ran the "
                "first code cell (it imports numpy as np).")
    if isinstance(error, IndexError):
        return "z is 1-D: use z[j] with j in range(len(z)), never z[j, 0] or j >= len(z)."
    return (f"run {fname}(np.array([1., 2., 3., 4.])) in a new cell and read where it stops.")


def _check_result_type(a, z, check):
    """Raise _Failed unless ``a`` is a 1-D float NumPy array of len(z) values."""
    n = len(z)
    want = f"Expected a 1-D NumPy array of {n} probabilities"
    if a is None:
        raise _Failed(f"{check} failed: your function returned None. {want}, got None. Hint: end "
                      f"your function with `return a`, where a holds the probabilities.")
    if type(a).__module__.split(".")[0] in ("tensorflow", "keras", "torch", "jax", "jaxlib"):
        raise _Failed(f"{check} failed: your function returned a tensor ({type(a).__name__}), "
                      f"not a NumPy array. {want}. Hint: this exercise asks you to write softmax "
                      f"yourself with NumPy (np.exp and np.sum) instead of calling tf.nn.softmax.")
    if isinstance(a, (list, tuple)):
        raise _Failed(f"{check} failed: your function returned a Python {type(a).__name__}, not a "
                      f"NumPy array. {want}, got a {type(a).__name__}. Hint: compute with NumPy "
                      f"arrays (for example a = np.zeros(len(z)), then fill it in), or convert at "
                      f"the end with np.array(...).")
    number = isinstance(a, (int, float, complex, np.generic))
    if number or (isinstance(a, np.ndarray) and a.ndim == 0):
        if np.issubdtype(np.asarray(a).dtype, np.integer):
            hint = ("np.argmax gives the position of the largest value; softmax gives a "
                    "probability for every value, e^z[j] / (sum of all e^z[k]).")
        else:
            hint = ("np.sum(...) gives one number, the bottom of the fraction; divide the whole "
                    "array np.exp(z) by it and return that array.")
        raise _Failed(f"{check} failed: your function returned a single number. {want}, got "
                      f"{a}. Hint: {hint}")
    if not isinstance(a, np.ndarray):
        raise _Failed(f"{check} failed: your function returned a {type(a).__name__}. {want}, got "
                      f"{a!r}. Hint: return the NumPy array of probabilities.")
    if a.ndim != 1:
        raise _Failed(f"{check} failed: your function returned an array of shape {a.shape}. "
                      f"{want}, of shape ({n},). Hint: keep the result 1-D like z: do not reshape "
                      f"it, and create arrays with np.zeros(len(z)), not np.zeros((N, 1)).")
    if a.shape[0] != n:
        raise _Failed(f"{check} failed: your function returned {a.shape[0]} values for {n} "
                      f"values of z. {want}, got {a.shape[0]}. Hint: return one probability per "
                      f"value of z; a loop should run over range(len(z)).")
    if a.dtype.kind in "iub":
        raise _Failed(f"{check} failed: your function returned whole numbers ({a.dtype}): "
                      f"{_fmt(a)}. {want} between 0 and 1. Hint: use / (not //), and create the "
                      f"result as floats: np.zeros(len(z)), not np.zeros(len(z), dtype=int).")
    if a.dtype.kind != "f":
        raise _Failed(f"{check} failed: your function returned an array of {a.dtype}, not of real "
                      f"numbers. {want}. Hint: compute the result from np.exp(z) and np.sum.")
    if a.dtype == np.float16:
        raise _Failed(f"{check} failed: your function returned float16 numbers, which keep only "
                      f"about 3 digits. {want} in float64 or float32. Hint: do not convert to "
                      f"float16; NumPy's default float64 is fine.")


def _known_mistakes(z):
    """Wrong formulas students write, each with its hint: a list of (values (N,), hint) pairs."""
    n = len(z)
    with np.errstate(all="ignore"):  # these formulas may overflow or divide by 0: that is fine here
        ez = np.exp(z)
        one_hot = (np.arange(n) == np.argmax(z)).astype(float)
        return [
            (ez, "you computed e^z but did not divide by the sum of all e^z."),
            (ez / np.sum(z), "you divided by the sum of z; divide by the sum of the exponentials "
                             "instead: np.sum(np.exp(z))."),
            (ez / np.max(ez), "you divided e^z by its largest value (e^(z - max z) gives the "
                              "same); softmax divides by the SUM of all e^z."),
            (ez / np.max(z), "you divided by the largest z; divide by the sum of all e^z."),
            (ez / n, "you divided by the number of values N; divide by the sum of all e^z."),
            (ez / np.exp(np.sum(z)), "the bottom of the fraction is the sum of the exponentials, "
                                     "np.sum(np.exp(z)), not e to the power sum(z)."),
            (z / np.sum(z), "you forgot the exponential: a[j] = e^z[j] / (sum of e^z[k]); "
                            "use np.exp(z)."),
            (_softmax(-z), "you used e^(-z); softmax uses e^(+z), so that a bigger z gets a bigger "
                           "probability."),
            (_softmax(np.arange(n)), "you took e to the power of the position j instead of the "
                                     "value z[j]: use np.exp(z[j])."),
            (1 / (1 + np.exp(-z)), "that is the sigmoid of each value on its own; softmax divides "
                                   "e^z[j] by the sum of e^z over ALL values."),
            (ez / np.cumsum(ez), "your loop divided by the sum so far; first add up ALL e^z[k], "
                                 "then divide each e^z[j] by that total."),
            (2.0**z / np.sum(2.0**z), "use e to the power z, np.exp(z), not 2**z."),
            (10.0**z / np.sum(10.0**z), "use e to the power z, np.exp(z), not 10**z."),
            (np.full(n, 1.0 / n), "every probability is 1/N whatever z is; the top of the fraction "
                                  "must be e^z[j], not the same for all j."),
            (one_hot, "you gave probability 1 to the largest value and 0 to the others, like "
                      "np.argmax; softmax gives every value a share, e^z[j] / sum of e^z[k]."),
            (z - np.log(np.sum(ez)), "you returned the logarithm of the probabilities; return the "
                                     "probabilities themselves."),
        ]


def _close(got, wanted, rtol=1e-4):
    return bool(np.all(np.isfinite(wanted))) and np.allclose(got, wanted, rtol=rtol, atol=1e-12)


def _mistake_hints(target, z, got, inputs):
    """Hints of the known mistakes that explain ``got`` = target(z), best first.

    A mistake that gives the right answer for this z is no explanation (for z = [1, 2, 3, 4],
    e^j for the position j gives the softmax exactly). When several fit (dividing by max(z) and
    by N agree there too) the student's function is run on the other inputs until one is left.
    """
    hints = [hint for wrong, hint in _known_mistakes(z)
             if _close(got, wrong) and not _close(_softmax(z), wrong, rtol=1e-3)]
    for other in inputs:
        if len(hints) < 2:
            break
        try:
            result = np.asarray(target(other.copy()), dtype=np.float64)
        except Exception:  # the mistake is already found; this is only a tie-break
            continue
        if result.shape == other.shape:
            hints = [h for wrong, h in _known_mistakes(other) if h in hints and _close(
                result, wrong) and not _close(_softmax(other), wrong, rtol=1e-3)] or hints
    return hints


def _check_values(a, z, check, target, inputs, overflow):
    """Raise _Failed unless the probabilities ``a`` (N,) match the softmax of ``z`` (N,)."""
    p = _softmax(z)
    got = a.astype(np.float64)
    rtol = 1e-6 if np.finfo(a.dtype).eps < 1e-10 else 1e-4  # float64 (or longer) vs float32
    if np.allclose(got, p, rtol=rtol, atol=1e-12):
        return
    total = np.sum(got)
    if not np.isclose(total, 1.0, rtol=0, atol=1e-4):
        what = f"your probabilities add up to {total:.6g}, not 1"
        hint = "divide each e^z[j] by the sum of all e^z[k]: np.exp(z) / np.sum(np.exp(z))."
    elif np.allclose(np.sort(got), np.sort(p), rtol=rtol, atol=1e-12):
        what = "you have the right probabilities but in the wrong order"
        hint = "a[j] belongs to z[j]: do not sort or reverse z or the result."
    elif np.any(np.diff(got[np.argsort(z, kind="stable")]) < -1e-9):
        what = "a bigger z does not always get a bigger probability"
        hint = "softmax keeps the order of z; compute a[j] from z[j]: e^z[j] / sum of e^z[k]."
    elif np.allclose(got, p, rtol=0, atol=0.01):
        what = "your probabilities are close but not exact"
        hint = "do not round the result, and keep NumPy's float64 (or float32) numbers."
    else:
        what = "wrong probabilities"
        hint = "a[j] = e^z[j] / (e^z[0] + ... + e^z[N-1]): np.exp(z) / np.sum(np.exp(z))."
    if overflow:  # right on all the ordinary inputs, wrong on large ones
        hint = _OVERFLOW_HINT
    else:
        hint = (_mistake_hints(target, z, got, inputs) or [hint])[0]
    precision = 4 if _fmt(got) != _fmt(p) else 12  # show enough digits to see the difference
    raise _Failed(f"{check} failed: {what} for z = {_fmt(z)}. Expected {_fmt(p, precision)}, "
                  f"got {_fmt(got, precision)}. Hint: {hint}")


def _check_softmax(target, check, default_name, inputs, large=()):
    """Call ``target`` on each 1-D array of ``inputs``, then of ``large`` (values that overflow
    e^z); raise _Failed at the first mistake."""
    if not callable(target):
        raise _Failed(f"{check} failed: expected your function {default_name}, got "
                      f"{type(target).__name__} {target!r:.60}. Hint: pass the function itself, "
                      f"without brackets: {check}({default_name}).")
    fname = _function_name(target, default_name)
    for z, overflow in [(z, False) for z in inputs] + [(z, True) for z in large]:
        a, given = _call_student(target, z, check, fname)
        _check_result_type(a, z, check)
        if not np.array_equal(given, z):
            raise _Failed(f"{check} failed: your {fname} changed the array z it was given. "
                          f"Expected z to stay {_fmt(z)}, got {_fmt(given)}. Hint: `z -= ...` or "
                          f"`z[j] = ...` changes the caller's array; write z = z - np.max(z) or "
                          f"store results in a new array.")
        if not np.all(np.isfinite(a)):
            hint = _OVERFLOW_HINT if overflow else (
                "nan or inf usually comes from dividing by zero, for example by the sum of z "
                "(0 for z = [-1, 0, 1]); divide by the sum of e^z, which is always positive.")
            raise _Failed(f"{check} failed: your result contains nan or inf for z = {_fmt(z)}. "
                          f"Expected {_fmt(_softmax(z))}, got {_fmt(a)}. Hint: {hint}")
        _check_values(a, z, check, target, inputs, overflow)


def test_my_softmax(target):
    """Check Exercise 1: ``target(z)`` maps a 1-D array z (N,) to its softmax a (N,).

    Tries the notebook's example, N = 1, ties, negative values, values up to 50 in size and random
    arrays of several lengths (a fixed seed, so every run is the same). The plain formula
    np.exp(z) / np.sum(np.exp(z)) passes, as in the course.
    """
    check = "test_my_softmax"
    status, message = _outcome(
        check, lambda: _check_softmax(target, check, "my_softmax", _basic_inputs()),
        not_attempted=_NOT_IMPLEMENTED.format(1, "in my_softmax"))
    if status == "failed":
        raise AssertionError(message) from None
    print(_pass_line(check))


def test_my_softmax_stable(target):
    """Check the optional challenge: ``target(z)`` (N,) -> (N,) also works for z as large as 1000.

    Runs the checks of test_my_softmax, then values like [1000, 1001, 1002] where e^z overflows.
    While the function still raises NotImplementedError this prints one line and does not fail.
    """
    check = "test_my_softmax_stable"
    status, message = _outcome(check, lambda: _check_softmax(
        target, check, "my_softmax_stable", _basic_inputs(), _large_inputs()), not_attempted=None)
    if status == "failed":
        raise AssertionError(message) from None
    if status == "not attempted":  # optional: say so, but let "Run All" go on
        print(f"{check}: the optional challenge is not attempted yet; you can skip it.")
    else:
        print(_pass_line(check))


# ----------------------------------------------------------------------------------------------
# Exercise 2: the model
# ----------------------------------------------------------------------------------------------

_PROBE = np.array([[-3.0, -1.0, 0.0, 0.5, 2.0, 7.0]], dtype=np.float32)
_ACTIVATIONS = {  # what each activation gives on _PROBE (1, 6)
    "relu": np.maximum(_PROBE, 0.0),
    "linear": _PROBE,
    "sigmoid": 1.0 / (1.0 + np.exp(-_PROBE)),
    "softmax": np.exp(_PROBE) / np.sum(np.exp(_PROBE)),
    "tanh": np.tanh(_PROBE),
}


def _activation_kind(layer, keras):
    """The activation a Dense layer computes: 'relu', 'linear', 'sigmoid', ... or its own name.

    Decided by what it computes, not by which object it is: 'relu', tf.nn.relu,
    keras.activations.relu and a keras.layers.ReLU() object all compute max(0, x), so all are
    accepted as ReLU ('linear' and None both give x). Calling an activation creates no weights.
    """
    function = layer.activation
    try:
        out = keras.ops.convert_to_numpy(function(keras.ops.convert_to_tensor(_PROBE)))
    except Exception:
        out = None
    for kind, expected in _ACTIVATIONS.items():
        if out is not None and np.shape(out) == expected.shape and np.allclose(out, expected,
                                                                               atol=1e-5):
            return kind
    return getattr(function, "__name__", None) or type(function).__name__


def _describe(layer, keras):
    if isinstance(layer, keras.layers.Dense):
        return f"Dense({layer.units}, {_activation_kind(layer, keras)})"
    return type(layer).__name__


def _declared_input_shape(model):
    """The input shape the student gave, e.g. (None, 400), or None if the model has none yet."""
    try:
        inputs = model.inputs  # an unbuilt Sequential raises AttributeError; nothing is built
    except (AttributeError, ValueError):
        return None
    return tuple(inputs[0].shape) if inputs else None


def _check_is_sequential(target, keras, expected):
    """Raise _Failed unless ``target`` is a Keras Sequential model.

    A Functional or subclassed Keras model is rejected even with the right layers: the exercise
    asks for Sequential, and later cells read model.layers as exactly the three Dense layers,
    whereas a Functional model also lists its Input layer there (and W, b = get_weights() fails).
    """
    if isinstance(target, keras.Sequential):
        return
    got = f"{type(target).__name__} {target!r:.40}"
    if target is None:
        got = "None"
        hint = ("make sure your cell assigns the model, model = Sequential([...]), and that you "
                "ran that cell.")
    elif isinstance(target, (list, tuple)):
        got = f"a {type(target).__name__} of {len(target)} items"
        hint = "wrap the list of layers in Sequential: model = Sequential([...])."
    elif isinstance(target, keras.Model):
        got = f"a {type(target).__name__} Keras model"
        hint = ("build it with Sequential([keras.Input(shape=(400,)), Dense(...), ...]); later "
                "cells expect model.layers to be exactly the three Dense layers.")
    elif isinstance(target, keras.layers.Layer):
        got = f"a single {type(target).__name__} layer"
        hint = "put your layers in a list inside Sequential([...])."
    elif isinstance(target, type) or callable(target):
        what = "the class" if isinstance(target, type) else "the function"
        got = f"{what} {getattr(target, '__name__', type(target).__name__)}"
        hint = "pass the model object itself: test_model(model, 10, 400)."
    else:
        hint = "pass the model you built in Exercise 2: test_model(model, 10, 400)."
    raise _Failed(f"test_model failed: not a Sequential model. Expected a Keras Sequential model "
                  f"with {expected}, got {got}. Hint: {hint}")


def _check_layers(layers, keras, units, expected, got):
    """Raise _Failed unless ``layers`` are exactly three Dense layers."""
    for i, layer in enumerate(layers, start=1):
        if isinstance(layer, keras.layers.Dense):
            continue
        kind = type(layer).__name__
        if kind in ("Activation", "ReLU", "Softmax"):
            hint = ("give the activation to the Dense layer instead, Dense(25, activation="
                    "\"relu\"), and keep the last layer linear.")
        elif kind == "Flatten":
            hint = "remove the Flatten layer: each image is already a flat row of 400 numbers."
        else:
            hint = f"this exercise uses only Dense layers; remove the {kind} layer."
        article = "an" if kind[0] in "AEIOU" else "a"
        raise _Failed(f"test_model failed: layer {i} is {article} {kind} layer, not Dense. "
                      f"Expected {expected}, got {got}. Hint: {hint}")
    if len(layers) != 3:
        action = "add the missing one" if len(layers) < 3 else "remove the extra ones"
        raise _Failed(f"test_model failed: your model has {len(layers)} layers, not 3. Expected "
                      f"{expected}, got {got}. Hint: {action}; the data flows through 25, then "
                      f"15, then {units[2]} units.")


def _check_units(layers, units, expected, got):
    got_units = [layer.units for layer in layers]
    if got_units == units:
        return
    if got_units == [units[1], units[0], units[2]]:
        hint = "you swapped the first two layers: 25 units first, then 15."
    elif sorted(got_units) == sorted(units):
        hint = f"the layers are in the wrong order: 25 units, then 15, then {units[2]}."
    elif got_units[2] != units[2]:
        hint = f"the output layer needs one unit per class: Dense({units[2]}, ...)."
    else:
        hint = "the first layer has 25 units and the second 15, as in section 4.3."
    raise _Failed(f"test_model failed: wrong number of units. Expected {expected}, got {got}. "
                  f"Hint: {hint}")


def _check_activations(layers, keras, units, kinds, expected, got):
    for i, (layer, wanted) in enumerate(zip(layers, kinds), start=1):
        kind = _activation_kind(layer, keras)
        if kind == wanted:
            continue
        if i < 3 and kind == "linear":
            hint = ("without an activation a hidden layer is linear, and linear layers stacked "
                    "together can only learn a linear function; use activation=\"relu\".")
        elif i < 3:
            hint = (f"this lab uses ReLU in the hidden layers: "
                    f"Dense({units[i - 1]}, activation=\"relu\").")
        elif kind == "softmax":
            hint = ("keep the output layer linear, activation=\"linear\" (section 4.5): the loss "
                    "applies the softmax itself, SparseCategoricalCrossentropy(from_logits=True), "
                    "which is more accurate.")
        else:
            hint = ("the output layer gives the raw scores (logits), so it must be linear, "
                    "activation=\"linear\"; the loss turns them into probabilities (section 4.5).")
        raise _Failed(f"test_model failed: layer {i} has activation {kind}, expected {wanted}. "
                      f"Expected {expected}, got {got}. Hint: {hint}")


def _check_model(target, classes, input_size):
    """Raise _Failed (or _NotAttempted) unless ``target`` is the Exercise 2 model; reads only."""
    import keras  # here, not at the top: importing public_tests stays cheap

    units, kinds = [25, 15, classes], ["relu", "relu", "linear"]
    expected = " -> ".join(f"Dense({u}, {k})" for u, k in zip(units, kinds))
    _check_is_sequential(target, keras, expected)
    layers = list(target.layers)
    if not layers:
        raise _NotAttempted
    got = " -> ".join(_describe(layer, keras) for layer in layers)
    _check_layers(layers, keras, units, expected, got)
    shape = _declared_input_shape(target)
    if shape is not None and tuple(shape[1:]) != (input_size,):
        raise _Failed(f"test_model failed: wrong input size. Expected inputs of shape "
                      f"(None, {input_size}), got {shape}. Hint: each image is a flat row of "
                      f"{input_size} pixels: start the list with "
                      f"keras.Input(shape=({input_size},)).")
    _check_units(layers, units, expected, got)
    _check_activations(layers, keras, units, kinds, expected, got)
    for i, layer in enumerate(layers, start=1):
        if not layer.use_bias:
            raise _Failed(f"test_model failed: layer {i} has no bias (use_bias=False). Expected "
                          f"each Dense layer to have weights W and a bias b, got only W. Hint: "
                          f"leave use_bias out; later cells read W, b = layer.get_weights().")


def test_model(target, classes, input_size):
    """Check Exercise 2: ``target`` is a Sequential model input_size -> 25 -> 15 -> classes.

    Args:
      target: the student's model; its layers must be Dense(25, relu), Dense(15, relu) and
        Dense(classes, linear), taking inputs of shape (None, input_size) if an input is given.
      classes (int): the number of output units, 10.
      input_size (int): the number of values per example, 400.

    A model with no input size yet passes too: its shapes follow from the units. The check only
    reads the model: it builds, compiles and initialises nothing.
    """
    check = "test_model"
    status, message = _outcome(check, lambda: _check_model(target, classes, input_size),
                               not_attempted=_NOT_IMPLEMENTED.format(2, "inside Sequential([...])"))
    if status == "failed":
        raise AssertionError(message) from None
    print(_pass_line(check))
