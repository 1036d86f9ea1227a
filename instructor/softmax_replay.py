"""Replay the recorded calls of a student's softmax in the grader's own process.

The extract probe called the student's function inside the kernel, in the order the public check
called it, and recorded every input, output (or exception) and the input as it was after the call.
:class:`RecordedFunction` plays these calls back, so that the instructor's public check can run in
the grader's clean interpreter, where nothing the student did can have changed NumPy or the check,
and still see exactly what the student's function returned.
"""
import builtins

import numpy as np


class ReplayMismatch(AssertionError):
    """The check asked for a call that was not recorded: the check is not deterministic."""


def output_value(call, arrays):
    """The value the student's function returned in a recorded call, rebuilt with its type.

    Arrays keep their dtype and shape; lists, tuples, NumPy and Python scalars come back as such;
    ``None`` as None; any other type as a stand-in object of a class with the same name and
    module (the public checks only look at the type of such results).
    """
    kind = call.get("kind")
    if kind == "none":
        return None
    if kind == "ndarray":
        return arrays[call["output"]].copy()
    if kind == "numpy_scalar":
        return arrays[call["output"]][()]
    if kind == "python_scalar":
        return arrays[call["output"]].item()
    if kind == "list":
        return arrays[call["output"]].tolist()
    if kind == "tuple":
        return tuple(arrays[call["output"]].tolist())
    module, _, name = call.get("output_type", "builtins.object").rpartition(".")
    stand_in = type(name or "object", (), {"__module__": module,
                                           "__repr__": lambda self: f"<{module}.{name} object>"})
    return stand_in()


def rebuild_exception(exception):
    """An exception like the one the student's function raised (built-in types by name)."""
    kind = getattr(builtins, exception["type"], None) if exception.get("builtin") else None
    if not (isinstance(kind, type) and issubclass(kind, Exception)):
        return RuntimeError(f"{exception['type']}: {exception['message']}")
    try:
        return kind(exception["message"])
    except Exception:  # exception types with unusual constructors
        return RuntimeError(f"{exception['type']}: {exception['message']}")


class RecordedFunction:
    """Callable standing in for the student's function: returns the recorded results in order.

    Each call's input must equal the recorded one (same dtype, shape and values); the array it
    is given is then changed as the student's function changed it, and the recorded result is
    returned (or the recorded exception raised).
    """

    def __init__(self, name, calls, arrays):
        self.__name__ = self.__qualname__ = name
        self._calls, self._arrays, self._next = list(calls), arrays, 0

    def __call__(self, z):
        if self._next >= len(self._calls):
            raise ReplayMismatch(f"grader: the check called {self.__name__} more often than in "
                                 f"the kernel ({len(self._calls)} recorded calls)")
        call = self._calls[self._next]
        self._next += 1
        recorded = self._arrays[call["input"]]
        given = np.asarray(z)
        if (given.shape != recorded.shape or given.dtype != recorded.dtype
                or not np.array_equal(given, recorded, equal_nan=given.dtype.kind in "fc")):
            raise ReplayMismatch(f"grader: call {self._next} of {self.__name__} got a different "
                                 f"input than in the kernel")
        after = self._arrays.get(call.get("input_after"))
        if after is not None and isinstance(z, np.ndarray) and after.shape == z.shape:
            z[...] = after
        if "exception" in call:
            raise rebuild_exception(call["exception"])
        return output_value(call, self._arrays)

    @property
    def calls_left(self):
        """How many recorded calls the check has not asked for."""
        return len(self._calls) - self._next
