"""Checks for the graded cells of the multiclass digits lab.

Each graded cell ends with one of these calls:

- ``test_my_softmax(my_softmax)``: Exercise 1, softmax written with NumPy.
- ``test_my_softmax_stable(my_softmax_stable)``: the optional challenge, a softmax that does not
  overflow. It never raises, attempted or not, so "Run All" goes on to Exercise 2.
- ``test_model(model, 10, 400)``: Exercise 2, the 400 -> 25 -> 15 -> 10 ``Sequential`` model.

On success a check prints one fixed green line and nothing else. On a mistake it raises an
``AssertionError`` whose message names the check, says what was expected and what it got, and
ends with a hint; the optional challenge prints that message in red instead of raising, so Run All
goes on. A check never changes what it is given (the array ``z``, the model, its weights, NumPy's
or Keras's random state). Keras is imported inside ``test_model`` only, so importing this module
is cheap.

Called with ``return_outcome=True`` a check returns an :class:`Outcome` (and never raises for the
student's mistake): that is how the grader reads the verdict, the optional challenge's included.

The grader shares this module's definitions (the kinds of softmax input, what counts as "relu",
"linear" and "built"), so that a check a student passes is the check the grader applies.

Inside IPython (Jupyter), importing this module also watches the exercise cells: when the last run
of an exercise's cell raised, its check says so and quotes the error, instead of judging whatever
an earlier run left behind. Outside IPython it does nothing of the kind.
"""
import ast
import re
import sys
import sysconfig
import traceback
import warnings
from typing import NamedTuple

import numpy as np

_GREEN, _RED, _RESET = "\033[92m", "\033[91m", "\033[0m"
_NOT_IMPLEMENTED = ("Exercise {} is not implemented yet: write your code between ### START CODE "
                    "HERE ### and ### END CODE HERE ### {}, then run that cell again.")
_OVERFLOW_HINT = ("e^z overflows to inf for z above about 709 (and inf / inf is nan). Subtract the "
                  "largest value first, z = z - np.max(z): e^(z[j] - m) / (sum of e^(z[k] - m)) is "
                  "the same softmax, and now the largest exponent is e^0 = 1.")
_UNDERFLOW_HINT = ("e^z underflows to 0 for z below about -103 in float32 (about -745 in float64), "
                   "so the sum is 0 and 0 / 0 is nan. Keep NumPy's float64 numbers: do not "
                   "convert z or e^z to float32.")
_ZEROS_LIKE_HINT = ("np.zeros_like(z) copies z's dtype, so for integer z it makes an integer array "
                    "and every probability stored in it is truncated to 0; use np.zeros(z.shape) "
                    "or compute with np.exp(z) directly.")
_TF_SOFTMAX_HINT = ("tf.nn.softmax accepts only floats, and z may hold integers; write the softmax "
                    "yourself with NumPy as the exercise asks, np.exp(z) / np.sum(np.exp(z)).")
_FORMULA = {  # the formula each check's hints point to: never the overflowing one for the challenge
    "test_my_softmax": "np.exp(z) / np.sum(np.exp(z))",
    "test_my_softmax_stable": "e^(z[j] - m) / (sum of e^(z[k] - m)) with m = np.max(z), the same "
                              "m in the top and the bottom",
}


class Outcome(NamedTuple):
    """What a check decided, for the grader: ``status`` is "passed", "failed" or "not attempted";
    ``message`` is the text the student sees (the pass line, or what to fix)."""
    check: str
    status: str
    message: str


class _Failed(Exception):
    """A check found a mistake; its text is the whole message the student sees."""


class _NotAttempted(Exception):
    """The student's code is still the placeholder of the student notebook."""


def _pass_line(check):
    return f"{_GREEN}{check}: All tests passed!{_RESET}"


def _one_line(text, limit=300):
    """The first line of an error's text, shortened: a check's message is one line."""
    first = str(text).strip().splitlines()[0] if str(text).strip() else ""
    return first if len(first) <= limit else first[:limit - 3] + "..."


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


def softmax_inputs_of_every_kind(rng):
    """One 1-D array z of each kind my_softmax must handle, its values drawn from ``rng``.

    The kinds are the contract stated in my_softmax's docstring. test_my_softmax draws them with a
    fixed seed, the grader's hidden check with a secret one: other values, never other kinds.

    Args:
      rng (np.random.Generator): where the values come from.
    Returns:
      list of (kind, z) pairs, z an ndarray (N,): "one value" (N = 1), "two values", "ten
      values", "values up to 30", "1000 values", "all equal", "float32", "integers" (int64) and
      "near -300" (float64, where e^z still fits in a float64 but not in a float32).
    """
    return [
        ("one value", rng.normal(0.0, 2.0, 1)),
        ("two values", rng.normal(0.0, 4.0, 2)),
        ("ten values", rng.normal(0.0, 4.0, 10)),
        ("values up to 30", rng.uniform(-30.0, 30.0, 37)),
        ("1000 values", rng.normal(0.0, 1.0, 1000)),
        ("all equal", np.full(6, rng.uniform(-20.0, 20.0))),
        ("float32", rng.normal(0.0, 3.0, 7).astype(np.float32)),
        ("integers", rng.integers(-5, 6, 9).astype(np.int64)),
        ("near -300", rng.normal(-300.0, 1.0, 5)),
    ]


def _basic_inputs():
    """The inputs test_my_softmax tries, simplest first, so that a wrong formula is explained on
    the notebook's example: float64 arrays with |z| <= 50, then one array of every kind."""
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
    kinds = [z for _, z in softmax_inputs_of_every_kind(np.random.default_rng(2026))]
    return [np.array(z, dtype=np.float64) for z in fixed] + drawn + kinds


def _large_inputs():
    """The inputs only a stable softmax survives: e^z overflows for z above about 709."""
    rng = np.random.default_rng(2025)
    fixed = [[1000.0, 1001.0, 1002.0], [-1000.0, -1001.0, -1002.0], [1000.0, 0.0, -1000.0],
             [710.0, 710.0, 710.0, 710.0]]
    return [np.array(z, dtype=np.float64) for z in fixed] + [rng.uniform(500, 1000, 20)]


def _fmt(values, precision=4):
    """One-line text of a 1-D array, independent of the notebook's np.set_printoptions."""
    values = np.asarray(values)
    if values.dtype.kind not in "iub":
        values = values.astype(np.float64)
    return np.array2string(values, precision=precision, suppress_small=False, threshold=12,
                           edgeitems=3, max_line_width=10**6, separator=" ")


def _z_text(z):
    """How a message names the input: its values, and its dtype unless it is NumPy's float64."""
    return _fmt(z) if z.dtype == np.float64 else f"{_fmt(z)} (dtype {z.dtype})"


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
        raise _Failed(f"{check} failed: your {fname} raised {type(error).__name__}: "
                      f"{_one_line(error, 160)}{where}. Expected it to return {len(z)} "
                      f"probabilities for z = {_z_text(z)}. "
                      f"Hint: {_hint_for_error(error, line, fname, z)}") from None
    return result, given


def _students_line(error):
    """The last line of the student's own code in the error's traceback ('' if unknown)."""
    libraries = tuple(sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib",
                                                         "platlib"))
    frames = [f for f in traceback.extract_tb(error.__traceback__)[1:]  # [0]: _call_student
              if not f.filename.startswith(libraries) and f.filename != __file__]
    return (frames[-1].line or "").strip() if frames else ""


def _hint_for_error(error, line, fname, z):
    text = f"{type(error).__name__}: {error}"
    if "tf.nn.softmax" in line or (z.dtype.kind in "iu" and "InvalidArgumentError" in text):
        return _TF_SOFTMAX_HINT
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
    if z.dtype.kind in "iu" and "negative integer powers" in str(error):
        return "z may hold integers, and ** of a negative integer fails: use np.exp(z)."
    return (f"call {fname} on this z in a new cell and read where it stops; it must accept "
            f"any 1-D array of ints or floats.")


def _is_tensor(value):
    """Whether ``value`` is a tensor of a deep-learning library rather than a NumPy value."""
    return type(value).__module__.split(".")[0] in ("tensorflow", "keras", "torch", "jax", "jaxlib")


def _check_result_type(a, z, check):
    """Raise _Failed unless ``a`` is a 1-D float NumPy array of len(z) values."""
    n = len(z)
    want = f"Expected a 1-D NumPy array of {n} probabilities"
    if a is None:
        raise _Failed(f"{check} failed: your function returned None. {want}, got None. Hint: end "
                      f"your function with `return a`, where a holds the probabilities.")
    if _is_tensor(a):
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
                      f"{a!r:.80}. Hint: return the NumPy array of probabilities.")
    if a.ndim != 1:
        raise _Failed(f"{check} failed: your function returned an array of shape {a.shape}. "
                      f"{want}, of shape ({n},). Hint: keep the result 1-D like z: do not reshape "
                      f"it, and create arrays with np.zeros(len(z)), not np.zeros((N, 1)).")
    if a.shape[0] != n:
        raise _Failed(f"{check} failed: your function returned {a.shape[0]} values for {n} "
                      f"values of z. {want}, got {a.shape[0]}. Hint: return one probability per "
                      f"value of z; a loop should run over range(len(z)).")
    if a.dtype.kind in "iub":
        if z.dtype.kind in "iu" and a.dtype == z.dtype:
            hint = _ZEROS_LIKE_HINT
        else:
            hint = ("use / (not //), and create the result as floats: np.zeros(len(z)), not "
                    "np.zeros(len(z), dtype=int).")
        raise _Failed(f"{check} failed: your function returned whole numbers ({a.dtype}) for "
                      f"z = {_z_text(z)}: {_fmt(a)}. {want} between 0 and 1. Hint: {hint}")
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
    z = z.astype(np.float64)  # the formulas in float64, whatever the student's z
    ez = np.exp(z)
    shifted = np.exp(z - np.max(z))
    one_hot = (np.arange(n) == np.argmax(z)).astype(float)
    return [
        (ez, "you computed e^z but did not divide by the sum of all e^z."),
        (ez / np.sum(z), "you divided by the sum of z; divide by the sum of the exponentials "
                         "instead: np.sum(np.exp(z))."),
        (shifted / np.sum(ez), "you subtracted max(z) in the top of the fraction but not in the "
                               "bottom: subtract the same m = np.max(z) in both, e^(z[j] - m) / "
                               "(sum of e^(z[k] - m))."),
        (ez / np.sum(shifted), "you subtracted max(z) in the bottom of the fraction but not in "
                               "the top: subtract the same m = np.max(z) in both, e^(z[j] - m) / "
                               "(sum of e^(z[k] - m))."),
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
    ``target`` None (the grader's hidden check, which has only recorded results) skips that.
    """
    hints = [hint for wrong, hint in _known_mistakes(z)
             if _close(got, wrong) and not _close(_softmax(z), wrong, rtol=1e-3)]
    for other in inputs if target is not None else ():
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


def softmax_tolerance(a, z):
    """The relative error allowed in the probabilities ``a`` (N,) for ``z`` (N,): float64 keeps
    about 16 digits, float32 (of the result or of the input) about 7."""
    return 1e-4 if np.float32 in (a.dtype.type, z.dtype.type) else 1e-6


def _check_values(a, z, check, target, inputs, overflow):
    """Raise _Failed unless the probabilities ``a`` (N,) match the softmax of ``z`` (N,)."""
    p = _softmax(z)
    got = a.astype(np.float64)
    rtol = softmax_tolerance(a, z)
    if np.allclose(got, p, rtol=rtol, atol=1e-12):
        return
    formula = _FORMULA.get(check, _FORMULA["test_my_softmax"])
    total = np.sum(got)
    if not np.isclose(total, 1.0, rtol=0, atol=1e-4):
        what = f"your probabilities add up to {total:.6g}, not 1"
        hint = f"divide each e^z[j] by the sum of all e^z[k]: {formula}."
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
        hint = f"a[j] = e^z[j] / (e^z[0] + ... + e^z[N-1]): {formula}."
    if overflow:  # right on all the ordinary inputs, wrong on large ones
        hint = _OVERFLOW_HINT
    else:
        hint = (_mistake_hints(target, z, got, inputs) or [hint])[0]
    precision = 4 if _fmt(got) != _fmt(p) else 12  # show enough digits to see the difference
    raise _Failed(f"{check} failed: {what} for z = {_z_text(z)}. Expected {_fmt(p, precision)}, "
                  f"got {_fmt(got, precision)}. Hint: {hint}")


def _check_output(a, z, given, check, target=None, inputs=(), overflow=False):
    """Raise _Failed unless ``a`` is the softmax of ``z`` (N,) and ``given``, the array the
    student's function received, still equals z (None: not known)."""
    fname = "function" if target is None else _function_name(target, "function")
    _check_result_type(a, z, check)
    if given is not None and not np.array_equal(given, z):
        raise _Failed(f"{check} failed: your {fname} changed the array z it was given. "
                      f"Expected z to stay {_fmt(z)}, got {_fmt(given)}. Hint: `z -= ...` or "
                      f"`z[j] = ...` changes the caller's array; write z = z - np.max(z) or "
                      f"store results in a new array.")
    if not np.all(np.isfinite(a)):
        if overflow:
            hint = _OVERFLOW_HINT
        elif np.max(z) < -80:
            hint = _UNDERFLOW_HINT
        else:
            hint = ("nan or inf usually comes from dividing by zero, for example by the sum of z "
                    "(0 for z = [-1, 0, 1]); divide by the sum of e^z, which is always positive.")
        raise _Failed(f"{check} failed: your result contains nan or inf for z = {_z_text(z)}. "
                      f"Expected {_fmt(_softmax(z))}, got {_fmt(a)}. Hint: {hint}")
    _check_values(a, z, check, target, inputs, overflow)


def softmax_output_problem(z, a, check="hidden check"):
    """What is wrong with ``a`` as the softmax of the 1-D array ``z`` (N,), judged exactly as the
    public check judges it: "" when ``a`` is right, else the message (what, expected, hint).

    The grader's hidden check calls this on the student's recorded results."""
    with np.errstate(all="ignore"):
        try:
            _check_output(a, np.asarray(z), None, check)
        except _Failed as failure:
            return str(failure)
    return ""


def _check_softmax(target, check, default_name, inputs, large=()):
    """Call ``target`` on each 1-D array of ``inputs``, then of ``large`` (values that overflow
    e^z); raise _Failed at the first mistake."""
    if not callable(target):
        raise _Failed(f"{check} failed: expected your function {default_name}, got "
                      f"{type(target).__name__} {target!r:.60}. Hint: pass the function itself, "
                      f"without brackets: {check}({default_name}).")
    fname = _function_name(target, default_name)
    # The student's overflow and 0/0 warnings would spill into the check's output; the check
    # explains the nan or inf itself. errstate restores NumPy's settings afterwards.
    with np.errstate(all="ignore"):
        for z, overflow in [(z, False) for z in inputs] + [(z, True) for z in large]:
            a, given = _call_student(target, z, check, fname)
            _check_output(a, z, given, check, target, inputs, overflow)


def _report(check, status, message, return_outcome):
    """End a check that did not raise: print its line (a failure in red), return the Outcome if
    asked for."""
    if status != "failed":
        print(message)
    elif not return_outcome:
        print(f"{_RED}{message}{_RESET}")
    return Outcome(check, status, message) if return_outcome else None


def test_my_softmax(target, return_outcome=False):
    """Check Exercise 1: ``target(z)`` maps a 1-D array z (N,) to its softmax a (N,).

    Tries the notebook's example, N = 1, ties, negative values, values up to 50 in size, random
    arrays of several lengths, then one array of every kind the exercise's contract names (see
    softmax_inputs_of_every_kind): 1000 values, float32, integers, values near -300. A fixed seed
    makes every run the same. The plain formula np.exp(z) / np.sum(np.exp(z)) passes.

    Returns None, or an Outcome with ``return_outcome=True`` (then a mistake does not raise).
    """
    check = "test_my_softmax"
    status, message = _exercise_cell_failure(check) or _outcome(
        check, lambda: _check_softmax(target, check, "my_softmax", _basic_inputs()),
        not_attempted=_NOT_IMPLEMENTED.format(1, "in my_softmax"))
    if status == "failed" and not return_outcome:
        raise AssertionError(message) from None  # outside every except: a one-frame traceback
    return _report(check, status, message or _pass_line(check), return_outcome)


def test_my_softmax_stable(target, return_outcome=False):
    """Check the optional challenge: ``target(z)`` (N,) -> (N,) also works for z as large as 1000.

    Runs the checks of test_my_softmax, then values like [1000, 1001, 1002] where e^z overflows.
    It never raises for the student's mistake, so Run All goes on: a wrong answer prints what to
    fix in red, a placeholder that still raises NotImplementedError prints one line.

    Returns None, or an Outcome with ``return_outcome=True`` ("failed" for a wrong answer).
    """
    check = "test_my_softmax_stable"
    status, message = _exercise_cell_failure(check) or _outcome(check, lambda: _check_softmax(
        target, check, "my_softmax_stable", _basic_inputs(), _large_inputs()), not_attempted=None)
    if status == "not attempted":  # optional: say so, but let "Run All" go on
        message = f"{check}: the optional challenge is not attempted yet; you can skip it."
    return _report(check, status, message or _pass_line(check), return_outcome)


# ----------------------------------------------------------------------------------------------
# Optional challenge: the cross-entropy loss from the logits
# ----------------------------------------------------------------------------------------------

_LOG_SUM_EXP_HINT = ("e^z overflows to inf for z above about 709, and a_y can round to 0, whose "
                     "logarithm is -inf. Work from the logits: -ln a_y = ln(e^z[0] + ... + "
                     "e^z[N-1]) - z[y], with the first term computed as m + ln(sum of "
                     "e^(z[k] - m)), m = np.max(z): no e^ overflows and the sum is at least 1.")


def cross_entropy_inputs_of_every_kind(rng):
    """One example (z, y) of each kind cross_entropy_from_logits must handle, drawn from ``rng``.

    Returns:
      list of (kind, z, y): z an ndarray (N,) of logits, y a Python int in 0..N-1. The kinds:
      "one class" (the loss is 0), "ten classes", "confident and right", "confident and wrong"
      (the true class's logit 20 to 60 below the others), "logits up to 1000", "float32",
      "integers".
    """
    gap = rng.uniform(20.0, 60.0)
    return [
        ("one class", rng.normal(0.0, 2.0, 1), 0),
        ("ten classes", rng.normal(0.0, 4.0, 10), int(rng.integers(10))),
        ("confident and right", np.array([rng.uniform(20.0, 60.0), 0.0, rng.normal()]), 0),
        ("confident and wrong", np.array([0.0, rng.normal(), -gap]), 2),
        ("logits up to 1000", rng.uniform(-1000.0, 1000.0, 6), int(rng.integers(6))),
        ("float32", rng.normal(0.0, 3.0, 7).astype(np.float32), int(rng.integers(7))),
        ("integers", rng.integers(-5, 6, 9).astype(np.int64), int(rng.integers(9))),
    ]


def _cross_entropy_examples():
    """The examples test_cross_entropy_from_logits tries: the notebook's first, then one of
    every kind (fixed seed)."""
    fixed = [([1.0, 2.0, 3.0], 2),  # the notebook's example: -ln 0.665 = 0.408
             ([0.0, 0.0, -20.0], 2),  # section 4.5's confident mistake: 20.693
             ([2.0, 2.0], 0),  # a tie: ln 2
             ([0.5], 0),  # one class: 0
             ([0.0, 0.0, -200.0], 2),  # a_2 rounds to 0 in float64 too
             ([1000.0, 1001.0, 1002.0], 0)]  # e^z overflows
    kinds = [(z, y) for _, z, y in cross_entropy_inputs_of_every_kind(np.random.default_rng(2027))]
    return [(np.array(z, dtype=np.float64), y) for z, y in fixed] + kinds


def _keras_cross_entropy(z, y):
    """Keras's loss for one example: SparseCategoricalCrossentropy(from_logits=True), float32."""
    import keras  # here, not at the top: importing public_tests stays cheap

    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    logits = np.asarray(z, dtype=np.float32).reshape(1, -1)
    return float(keras.ops.convert_to_numpy(loss(np.array([y]), logits)))


def _tensorflow_gradient(z, y):
    """TensorFlow's gradient of Keras's loss with respect to the logits z, (N,) float64."""
    import keras
    import tensorflow as tf

    logits = tf.Variable(np.asarray(z, dtype=np.float32).reshape(1, -1))
    with tf.GradientTape() as tape:
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(np.array([y]), logits)
    return np.asarray(tape.gradient(loss, logits), dtype=np.float64).reshape(-1)


def _ce_text(z, y):
    return f"z = {_z_text(np.asarray(z))} and y = {y}"


def _cross_entropy_mistakes(z, y):
    """Wrong formulas students write, each with its hint: a list of (value, hint) pairs."""
    z = np.asarray(z, dtype=np.float64)
    with np.errstate(all="ignore"):
        log_sum = np.max(z) + np.log(np.sum(np.exp(z - np.max(z))))
        a = np.exp(z - log_sum)
        mistakes = [
            (z[y] - log_sum, "the loss is MINUS ln a_y, a positive number: you returned ln a_y."),
            (-np.log10(a[y]), "use the natural logarithm, np.log, not np.log10."),
            (a[y], "that is the probability a_y of the true class; the loss is -ln a_y."),
            (1.0 - a[y], "the loss is -ln a_y, not 1 - a_y."),
            (np.log(np.sum(np.exp(z - np.max(z)))) - z[y],
             "you subtracted m = np.max(z) inside the sum but did not add it back: "
             "ln(sum of e^z[k]) = m + ln(sum of e^(z[k] - m))."),
            (np.log(np.sum(np.exp(z))) - np.max(z), "subtract z[y], the logit of the TRUE class "
                                                    "y, not the largest logit."),
            (log_sum, "you forgot to subtract z[y], the logit of the true class."),
        ]
        mistakes += [(log_sum - z[k], f"you used the logit of class {k}; use z[y], the logit of "
                                      f"the true class y = {y}.")
                     for k in range(len(z)) if k != y]
    return mistakes


def _check_cross_entropy_value(value, z, y, given, check, fname):
    """Raise _Failed unless ``value`` is the loss of (z, y) and z was left as it was."""
    want = f"Expected one number, the loss -ln a_{y}"
    if value is None:
        raise _Failed(f"{check} failed: your {fname} returned None for {_ce_text(z, y)}. {want}. "
                      f"Hint: end your function with `return loss`.")
    if _is_tensor(value):
        raise _Failed(f"{check} failed: your {fname} returned a tensor ({type(value).__name__}). "
                      f"{want}, as a NumPy or Python number. Hint: compute it yourself with NumPy "
                      f"(np.max, np.exp, np.sum, np.log).")
    if np.ndim(value) != 0 or not isinstance(value, (int, float, np.number, np.ndarray)):
        shape = np.shape(value) if isinstance(value, (np.ndarray, list, tuple)) else None
        got = f"an array of shape {shape}" if shape is not None else f"a {type(value).__name__}"
        raise _Failed(f"{check} failed: your {fname} returned {got} for {_ce_text(z, y)}. {want}. "
                      f"Hint: the loss of one example is one number: sum over k inside the "
                      f"logarithm, then subtract the single logit z[y].")
    if given is not None and not np.array_equal(given, z):
        raise _Failed(f"{check} failed: your {fname} changed the array z it was given. Expected z "
                      f"to stay {_fmt(z)}, got {_fmt(given)}. Hint: write z = z - np.max(z) (a new "
                      f"array), not z -= ... .")
    got = float(np.real(value))
    expected = _keras_cross_entropy(z, y)
    if np.isfinite(got) and np.isclose(got, expected, rtol=1e-5, atol=1e-5):
        return
    if not np.isfinite(got):
        what = f"your loss is {got}"
        hint = _LOG_SUM_EXP_HINT
    else:
        what = "wrong loss"
        hint = next((text for wrong, text in _cross_entropy_mistakes(z, y)
                     if np.isfinite(wrong) and np.isclose(got, wrong, rtol=1e-5, atol=1e-5)
                     and not np.isclose(wrong, expected, rtol=1e-5, atol=1e-5)),
                    "the loss is ln(e^z[0] + ... + e^z[N-1]) - z[y], the first term computed "
                    "as m + ln(sum of e^(z[k] - m)) with m = np.max(z).")
    raise _Failed(f"{check} failed: {what} for {_ce_text(z, y)}. Expected {expected:.6g} (Keras's "
                  f"SparseCategoricalCrossentropy(from_logits=True)), got {got:.6g}. Hint: {hint}")


def cross_entropy_output_problem(z, y, value, check="hidden check"):
    """What is wrong with ``value`` as the loss of (z, y), judged as the public check judges it:
    "" when right, else the message. The grader's hidden check calls this on the values the
    student's function returned."""
    with np.errstate(all="ignore"):
        try:
            _check_cross_entropy_value(value, np.asarray(z), y, None, check, "function")
        except _Failed as failure:
            return str(failure)
    return ""


_GRADIENT_STEP = 1e-4


def _check_cross_entropy_gradient(target, z, y, check, fname):
    """Raise _Failed unless the slopes of target(z, y) in each z[j], measured by nudging z[j] by
    a small step both ways, match TensorFlow's gradient of Keras's loss."""
    slopes = np.zeros(len(z))
    for j in range(len(z)):
        step = np.zeros(len(z))
        step[j] = _GRADIENT_STEP
        up, _ = _call_loss(target, z + step, y, check, fname)
        down, _ = _call_loss(target, z - step, y, check, fname)
        slopes[j] = (float(np.real(up)) - float(np.real(down))) / (2 * _GRADIENT_STEP)
    gradient = _tensorflow_gradient(z, y)
    if not np.allclose(slopes, gradient, atol=1e-3):
        raise _Failed(f"{check} failed: wrong slopes for {_ce_text(z, y)}, measured by nudging "
                      f"each z[j] a little. Expected TensorFlow's gradient {_fmt(gradient)} (that "
                      f"is a - onehot(y)), got {_fmt(slopes)}. Hint: the loss must change with z "
                      f"smoothly, as ln(sum of e^z[k]) - z[y] does; do not round it or treat the "
                      f"examples specially.")


def _call_loss(target, z, y, check, fname):
    """Call target(copy of z, y); returns (value, the copy). Errors become _Failed messages."""
    given = z.copy()
    try:
        value = target(given, y)
    except NotImplementedError:
        raise _NotAttempted from None
    except Exception as error:
        line = _students_line(error)
        where = f" in the line `{line}`" if line else ""
        hint = (_TF_SOFTMAX_HINT.replace("softmax", "loss") if "tf." in line else
                "call your function on this example in a new cell and read where it stops; it "
                "must accept any 1-D array of logits, ints or floats, and an int y.")
        raise _Failed(f"{check} failed: your {fname} raised {type(error).__name__}: "
                      f"{_one_line(error, 160)}{where}. Expected it to return the loss for "
                      f"{_ce_text(z, y)}. Hint: {hint}") from None
    return value, given


def _check_cross_entropy(target, check, default_name):
    if not callable(target):
        raise _Failed(f"{check} failed: expected your function {default_name}, got "
                      f"{type(target).__name__} {target!r:.60}. Hint: pass the function itself, "
                      f"without brackets: {check}({default_name}).")
    fname = _function_name(target, default_name)
    examples = _cross_entropy_examples()
    with np.errstate(all="ignore"):
        for z, y in examples:
            value, given = _call_loss(target, z, y, check, fname)
            _check_cross_entropy_value(value, z, y, given, check, fname)
        for z, y in examples[:2]:  # the notebook's two examples, in float64
            _check_cross_entropy_gradient(target, z, y, check, fname)


def test_cross_entropy_from_logits(target, return_outcome=False):
    """Check the optional challenge: ``target(z, y)`` is the cross-entropy -ln a_y of the logits
    z (N,) and the true class y, for logits of any size.

    Compares the loss with Keras's SparseCategoricalCrossentropy(from_logits=True) on the
    notebook's examples ([1, 2, 3] with y = 2, [0, 0, -20] with y = 2), a tie, one class, logits
    as far apart as 200 and 1000, then one example of every kind of
    cross_entropy_inputs_of_every_kind; then the slopes of the loss in each z[j] against
    TensorFlow's gradient. Like the other challenge it never raises for the student's mistake.

    Returns None, or an Outcome with ``return_outcome=True`` ("failed" for a wrong answer).
    """
    check = "test_cross_entropy_from_logits"
    status, message = _exercise_cell_failure(check) or _outcome(
        check, lambda: _check_cross_entropy(target, check, "cross_entropy_from_logits"),
        not_attempted=None)
    if status == "not attempted":  # optional: say so, but let "Run All" go on
        message = f"{check}: the optional challenge is not attempted yet; you can skip it."
    return _report(check, status, message or _pass_line(check), return_outcome)


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


def activation_kind(function, keras):
    """What an activation computes: 'relu', 'linear', 'sigmoid', 'softmax', 'tanh', or its own
    name for anything else.

    Decided by what it computes, not by which object it is: 'relu', tf.nn.relu,
    keras.activations.relu and a keras.layers.ReLU() object all compute max(0, x) ('linear' and
    None both give x). Calling an activation creates no weights and draws no random numbers.
    """
    try:
        out = keras.ops.convert_to_numpy(function(keras.ops.convert_to_tensor(_PROBE)))
    except Exception:
        out = None
    for kind, expected in _ACTIVATIONS.items():
        if out is not None and np.shape(out) == expected.shape and np.allclose(out, expected,
                                                                               atol=1e-5):
            return kind
    name = getattr(function, "__name__", None) or type(function).__name__
    # A function of the student's own may carry a known name, yet compute something else.
    return f"{name} (your own, not Keras's)" if name in _ACTIVATIONS else name


def saved_activation_kind(layer, keras):
    """The activation of a Dense ``layer`` as Keras saves it: activation_kind of the activation
    rebuilt from the layer's config, the way model.save then load_model (or from_config) rebuild
    it; None when it cannot be rebuilt (a lambda, tf.identity, a function of the student's own
    under another name) or computes something else once rebuilt (a function named like a Keras
    activation, which Keras saves by its name).

    The public check and the grader's hidden check both call this: one definition of "relu" and
    "linear", and only for activations that survive the grader's save and reload.
    """
    try:
        with warnings.catch_warnings():  # Keras warns about a lambda; the message says it all
            warnings.simplefilter("ignore")
            rebuilt = keras.activations.get(layer.get_config()["activation"])
    except Exception:  # Keras cannot serialise or find it again
        return None
    kind = activation_kind(rebuilt, keras)
    return kind if kind == activation_kind(layer.activation, keras) else None


def is_built(model):
    """Whether Keras has created the weights of ``model`` and of each of its layers, which later
    cells read with layer.get_weights(). Shared by the public and the hidden check."""
    return bool(getattr(model, "built", False)) and all(layer.built for layer in model.layers)


def _describe(layer, keras):
    if isinstance(layer, keras.layers.Dense):
        return f"Dense({layer.units}, {activation_kind(layer.activation, keras)})"
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
        computes_softmax = kind == "Softmax" or (
            kind == "Activation" and activation_kind(layer.activation, keras) == "softmax")
        if computes_softmax and i == len(layers):
            hint = (f"remove the {kind} layer at the end: the loss applies the softmax itself, "
                    f"SparseCategoricalCrossentropy(from_logits=True) (section 4.5), so the "
                    f"model must end with the linear Dense({units[2]}) layer and output logits.")
        elif kind in ("Activation", "ReLU", "Softmax"):
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
        kind = activation_kind(layer.activation, keras)
        if kind == wanted and saved_activation_kind(layer, keras) != wanted:
            raise _Failed(f"test_model failed: layer {i} computes {kind}, but Keras cannot save "
                          f"and reload its activation as {kind}, so your model cannot be rebuilt "
                          f"from its saved form (the grader rebuilds it that way). Expected "
                          f"{expected}, got {got}. Hint: give the activation by its name, "
                          f"activation=\"{wanted}\", instead of your own function, a lambda or "
                          f"tf.identity.")
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
    if not is_built(target):
        raise _Failed(f"test_model failed: your model has no input size, so Keras has not created "
                      f"its weights yet, and the next cells, which read them with "
                      f"layer.get_weights(), would fail. Expected a model for inputs of shape "
                      f"(None, {input_size}), got a model that is not built. Hint: start the "
                      f"list with keras.Input(shape=({input_size},)).")


def test_model(target, classes, input_size, return_outcome=False):
    """Check Exercise 2: ``target`` is a Sequential model input_size -> 25 -> 15 -> classes.

    Args:
      target: the student's model; its layers must be Dense(25, relu), Dense(15, relu) and
        Dense(classes, linear), built for inputs of shape (None, input_size), each activation
        one that Keras saves and reloads as itself.
      classes (int): the number of output units, 10.
      input_size (int): the number of values per example, 400.
      return_outcome (bool): return an Outcome instead of raising on a mistake.

    The check only reads the model: it builds, compiles and initialises nothing.
    """
    check = "test_model"
    status, message = _exercise_cell_failure(check) or _outcome(
        check, lambda: _check_model(target, classes, input_size),
        not_attempted=_NOT_IMPLEMENTED.format(2, "inside Sequential([...])"))
    if status == "failed" and not return_outcome:
        raise AssertionError(message) from None
    return _report(check, status, message or _pass_line(check), return_outcome)


# ----------------------------------------------------------------------------------------------
# Inside IPython: what the last run of each exercise cell did
# ----------------------------------------------------------------------------------------------

_SOLUTION_HEADER = re.compile(r"#\s*(?:GRADED CELL:\s*(Exercise\s*\d+)|OPTIONAL CHALLENGE)")
_CODE_MARKERS = ("### START CODE HERE ###", "### END CODE HERE ###")
_CHECKS = ("test_my_softmax", "test_my_softmax_stable", "test_cross_entropy_from_logits",
           "test_model")


def _solution_cell_label(source):
    """'Exercise 2', 'optional challenge' or 'exercise' for a cell holding an exercise's solution,
    recognised by its first line or its START/END markers (never by its position); else None."""
    lines = [line.strip() for line in source.splitlines() if line.strip()]
    match = _SOLUTION_HEADER.match(lines[0]) if lines else None
    if match:
        return match.group(1) or "optional challenge"
    return "exercise" if all(marker in source for marker in _CODE_MARKERS) else None


def _defined_names(source):
    """The names a cell defines at its top level: functions, classes, assigned variables. A cell
    that does not parse (the student's SyntaxError, or an IPython magic) is read line by line."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        found = re.findall(r"^(?:def\s+([A-Za-z_]\w*)|([A-Za-z_]\w*)\s*=[^=])", source, re.M)
        return {name for pair in found for name in pair if name}
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
    return names


def _check_arguments(source, check):
    """The plain names a cell passes to ``check``: ['model'] for `test_model(model, 10, 400)`."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    return [arg.id for node in ast.walk(tree) if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name) and node.func.id == check
            for arg in node.args if isinstance(arg, ast.Name)]


def _cell_error(error):
    """(the error's type and first line, the student's line in the cell or '')."""
    text = f"{type(error).__name__}: {_one_line(error, 200)}"
    if isinstance(error, SyntaxError):
        return text, (error.text or "").strip()
    libraries = tuple(sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib",
                                                         "platlib"))
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if not f.filename.startswith(libraries) and f.filename != __file__]
    return text, ((frames[-1].line or "").strip() if frames else "")


def _cell_failure_message(check, name, label, error, line, missing):
    at = f" at the line `{line}`" if line else ""
    stop = "" if error.endswith((".", "!", "?")) else "."
    state = ("is not defined" if missing else
             "may be left over from an earlier run rather than what that cell now says")
    if "to a shape" in error:
        fix = ("write the shape as a tuple, shape=(400,), with the comma: (400) is just the "
               "number 400. Then run")
    else:
        fix = "fix that error, then run"
    return (f"{check} failed: your {label} cell stopped{at} with {error}{stop} So `{name}` "
            f"{state}. Expected that cell to run without an error. Hint: {fix} the {label} cell "
            f"again, and then this check.")


class _CellWatch:
    """Remembers, for each name an exercise cell defines, whether the last run of that cell
    raised; and the source of the cell running now, to see which names a check was given."""

    _is_lab_cell_watch = True  # how a re-import finds and replaces an earlier watch

    def __init__(self):
        self.failures = {}  # name -> (cell label, error text, the student's line)
        self.running = ""

    def pre_run_cell(self, info):
        self.running = getattr(info, "raw_cell", "") or ""

    def post_run_cell(self, result):
        source = getattr(result.info, "raw_cell", "") or ""
        label = _solution_cell_label(source)
        if label is None:
            return
        error = result.error_before_exec or result.error_in_exec
        for name in _defined_names(source):
            if error is None:
                self.failures.pop(name, None)
            else:
                self.failures[name] = (label, *_cell_error(error))

    def failure(self, check, missing=False):
        """("failed", message) when a name the running cell passes to ``check`` comes from an
        exercise cell whose last run raised; else None."""
        for name in _check_arguments(self.running, check):
            if name in self.failures:
                return "failed", _cell_failure_message(check, name, *self.failures[name], missing)
        return None

    def explain_name_error(self, shell, etype, value, tb, tb_offset=None):
        """IPython's handler for NameError: in a check cell, a name that a failed exercise cell
        never defined is explained by that cell's error; any other NameError shows as usual."""
        name = getattr(value, "name", None)
        found = next((self.failure(check, missing=True) for check in _CHECKS
                      if name in _check_arguments(self.running, check)), None)
        if found is None or not hasattr(shell, "_showtraceback"):
            shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        else:
            shell._showtraceback(etype, value, [f"{_RED}{found[1]}{_RESET}"])
        return None


def _watch_exercise_cells(shell):
    """Register a new _CellWatch with the IPython ``shell`` (replacing one an earlier import
    registered) and return it; None when ``shell`` is None."""
    if shell is None or not hasattr(shell, "events"):
        return None
    for event in ("pre_run_cell", "post_run_cell"):
        for callback in list(shell.events.callbacks.get(event, [])):
            if getattr(getattr(callback, "__self__", None), "_is_lab_cell_watch", False):
                shell.events.unregister(event, callback)
    watch = _CellWatch()
    shell.events.register("pre_run_cell", watch.pre_run_cell)
    shell.events.register("post_run_cell", watch.post_run_cell)
    if shell.custom_exceptions in ((), (NameError,)):  # never displace another tool's handler
        shell.set_custom_exc((NameError,), watch.explain_name_error)
    return watch


def _exercise_cell_failure(check):
    """("failed", message) when the check's exercise cell failed on its last run; else None."""
    return _WATCH.failure(check) if _WATCH is not None else None


def _running_shell():
    """The IPython shell this module is imported in, or None (plain Python, the grader)."""
    ipython = sys.modules.get("IPython")  # never imported here: outside IPython, nothing happens
    return ipython.get_ipython() if ipython is not None else None


# Only the module the notebook imports watches; a copy loaded under another name does not.
_WATCH = _watch_exercise_cells(_running_shell()) if __name__ == "public_tests" else None
