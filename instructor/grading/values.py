"""Values out of the student's kernel: the grader's inputs go in, plain data comes back.

After the notebook's last cell the grader calls the student's functions in the kernel, one call
per cell of its own (:class:`RemoteFunction`), and asks for the model's Keras config
(:func:`read_model`). The code it sends is fixed and public (:data:`CALL_CODE`,
:data:`MODEL_CODE`): it decodes the inputs, calls the student's function by its name, and
displays what came back as plain JSON (dtypes, shapes, the bytes in hex, type names). No key,
secret, check or grader source enters the kernel; the hidden inputs enter it only as the
arguments of the calls, after the student's last cell.

Everything the kernel sends back is untrusted: the student's code runs in that process and can
answer anything. So nothing here decides anything: the grader judges these values in its own
process, with pristine libraries (:mod:`instructor.grading.exercises`), and a submission whose
process forges them must forge the right values, that is, compute them. What comes back is read
within bounds (:mod:`instructor.engine.limits`), rebuilt into the same kinds of Python values the
student's function returned, and anything malformed is a :class:`ChannelError`.
"""
import builtins
import json
import linecache

import numpy as np

from instructor.engine.limits import LimitExceeded, check_size, depth_of, loads
from instructor.grading.retrain import MAX_CONFIG_DEPTH

MIME = "application/vnd.lab-grader.value+json"
CALL_SECONDS = 10  # a call of the student's function that takes longer is interrupted
MODEL_SECONDS = 60  # serializing a model's config
MAX_REPLY = 4_000_000  # characters of one answer; the lab's largest (1,000 floats in, out) 33,000
MAX_ARRAY_BYTES = 1_000_000  # per array; the checks' largest input is 8,000 bytes
MAX_MESSAGE = 500  # characters of an exception's message
MAX_CONFIG = 500_000  # characters of a model's config; the lab's model has about 4,000
ARRAY_KINDS = "biufc"  # booleans, integers, floats, complex: the values a check compares

# The kernel's side of a call. It defines one function of a name no notebook uses, calls it and
# deletes it; every import and name it needs is local. The student's function is looked up by
# name in the notebook's namespace when the call runs.
CALL_CODE = '''\
def __lab_grader_call__():
    import numpy
    from IPython.display import display

    def load(item):
        if item[0] == "ndarray":
            return numpy.frombuffer(bytes.fromhex(item[3]), dtype=item[1]).reshape(item[2]).copy()
        return item[1]

    def describe(value):
        if value is None:
            return {{"kind": "none"}}
        kind = type(value)
        if kind in (bool, int, float, complex):
            array = numpy.asarray(value)
            return {{"kind": "python", "type": kind.__name__, "dtype": array.dtype.str,
                    "hex": array.tobytes().hex()}}
        if isinstance(value, (numpy.ndarray, numpy.generic, list, tuple)):
            try:
                array = numpy.asarray(value)
            except Exception:
                array = None
            if array is not None and array.dtype.kind in "{kinds}":
                if array.nbytes > {max_bytes}:
                    return {{"kind": "too large", "bytes": int(array.nbytes)}}
                name = ("ndarray" if isinstance(value, numpy.ndarray) else
                        "scalar" if isinstance(value, numpy.generic) else kind.__name__)
                return {{"kind": name, "dtype": array.dtype.str, "shape": list(array.shape),
                        "hex": array.tobytes().hex()}}
        return {{"kind": "other", "module": str(kind.__module__), "qualname": str(kind.__qualname__)}}

    def students_line(error):
        import sysconfig, traceback
        libraries = tuple(sysconfig.get_paths()[key] for key in ("stdlib", "purelib", "platlib"))
        frames = [frame for frame in traceback.extract_tb(error.__traceback__)[1:]
                  if not frame.filename.startswith(libraries)]
        return (frames[-1].line or "").strip() if frames else ""

    replies = []
    for call in {calls!r}:
        arguments = [load(item) for item in call]
        reply = {{}}
        try:
            result = {function}(*arguments)
        except BaseException as error:
            reply["raised"] = [type(error).__name__[:{max_message}],
                               str(type(error).__module__)[:{max_message}],
                               str(error)[:{max_message}], students_line(error)[:{max_message}]]
        else:
            reply["returned"] = describe(result)
        reply["after"] = [describe(argument) for argument in arguments]
        replies.append(reply)
        if "raised" in reply and reply["raised"][0] == "KeyboardInterrupt":
            break  # the grader's time limit: no further call
    display({{{mime!r}: {{"replies": replies}}}}, raw=True)


__lab_grader_call__()
del __lab_grader_call__
'''

MODEL_CODE = '''\
def __lab_grader_model__():
    import json
    import numpy
    from IPython.display import display

    def describe(value):
        array = numpy.asarray(value)
        if array.dtype.kind not in "{kinds}" or array.nbytes > {max_bytes}:
            return {{"kind": "too large", "bytes": int(array.nbytes)}}
        return {{"kind": "ndarray", "dtype": array.dtype.str, "shape": list(array.shape),
                "hex": array.tobytes().hex()}}

    reply = {{}}
    try:
        target = {name}
        reply["type"] = [str(type(target).__module__), str(type(target).__qualname__)]
        import keras
        text = json.dumps(keras.saving.serialize_keras_object(target))
        reply["size"] = len(text)
        if len(text) <= {max_config}:
            reply["config"] = text
        probe = numpy.frombuffer(bytes.fromhex({probe_hex!r}), dtype="<f4").reshape({probe_shape!r})
        try:  # called first: a model without an input size builds its weights now
            reply["outputs"] = describe(target(probe, training=False))
            weights = [numpy.asarray(w) for w in target.get_weights()]
            if sum(w.nbytes for w in weights) <= {max_bytes}:
                reply["weights"] = [describe(w) for w in weights]
        except Exception:
            pass  # not a model that can be called: its config alone is judged
    except BaseException as error:
        reply["raised"] = [type(error).__name__[:{max_message}], str(type(error).__module__)[:{max_message}],
                           str(error)[:{max_message}]]
    display({{{mime!r}: reply}}, raw=True)


__lab_grader_model__()
del __lab_grader_model__
'''


class ChannelError(BaseException):
    """The kernel gave no usable answer: it stopped, did not recover from an interrupt, or its
    answer was missing or malformed (``interfered``: code in the notebook got in the way).

    A BaseException, not an Exception: the public checks catch the student's exceptions with
    ``except Exception``, and this one is the grader's, not the student's.
    """

    def __init__(self, message, interfered=False):
        super().__init__(message)
        self.interfered = interfered


def encode(value):
    """A call argument as the kernel's code decodes it: an array as ("ndarray", dtype, shape,
    hex), anything else (an int) as ("plain", value)."""
    if isinstance(value, np.ndarray):
        return ["ndarray", value.dtype.str, list(value.shape), value.tobytes().hex()]
    if isinstance(value, (bool, int, float)):
        return ["plain", value]
    raise TypeError(f"the grader passes arrays and numbers, not {type(value).__name__}")


def call_code(function, calls):
    """The code of the calls of ``function`` (a name in the notebook) on each argument tuple of
    ``calls``, in order, in one cell."""
    if not function.isidentifier():
        raise ValueError(f"{function!r} is not a name")
    return CALL_CODE.format(function=function,
                            calls=[[encode(value) for value in arguments] for arguments in calls],
                            kinds=ARRAY_KINDS, max_bytes=MAX_ARRAY_BYTES, max_message=MAX_MESSAGE,
                            mime=MIME)


def answer(result):
    """The one answer a grader's cell displayed (a dict), from its CellResult.

    Raises:
      ChannelError: the cell did not run to its end, or displayed no answer, or several, or
        one that is not a dict of at most :data:`MAX_REPLY` characters.
    """
    if result.status in ("killed", "unreadable", "not run"):
        raise ChannelError(result.error or f"the kernel stopped ({result.status})")
    answers = [output["data"][MIME] for output in result.outputs
               if output.get("output_type") == "display_data" and MIME in output.get("data", {})]
    if result.status == "error" or len(answers) != 1:
        ended = f"the cell ended with {result.error}" if result.error else "the cell ended normally"
        raise ChannelError(f"the kernel did not answer the grader's call as any kernel does "
                           f"({len(answers)} answers instead of one; {ended})", interfered=True)
    reply = answers[0]
    try:
        check_size(len(json.dumps(reply)), MAX_REPLY, "the kernel's answer")
        if depth_of(reply, stop_above=6) > 6 or not isinstance(reply, dict):
            raise LimitExceeded("the kernel's answer is not the grader's flat dict")
    except (LimitExceeded, TypeError, ValueError) as error:
        raise ChannelError(str(error), interfered=True) from None
    return reply


# ---------------------------------------------------------------------------------------------
# Rebuilding values
# ---------------------------------------------------------------------------------------------

def _array(description):
    dtype = np.dtype(str(description.get("dtype")))
    if dtype.kind not in ARRAY_KINDS or dtype.itemsize > 16:
        raise ValueError(f"dtype {dtype}")
    raw = bytes.fromhex(str(description.get("hex", "")))
    shape = description.get("shape", [])
    if not isinstance(shape, list) or len(shape) > 8 or not all(
            isinstance(n, int) and not isinstance(n, bool) and 0 <= n for n in shape):
        raise ValueError(f"shape {shape!r}")
    if len(raw) > MAX_ARRAY_BYTES or len(raw) != dtype.itemsize * int(np.prod(shape, dtype=np.int64)):
        raise ValueError("size")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def stand_in(module, qualname, detail=""):
    """An object of a class named like the one the student's function returned (the public
    checks look at the type's name and module only, e.g. to say it is a tensor)."""
    name = qualname.rsplit(".", 1)[-1] or "object"
    cls = type(name, (), {"__module__": module, "__qualname__": qualname,
                          "__repr__": lambda self: f"<{module}.{qualname} object{detail}>"})
    return cls()


def value(description):
    """The Python value the kernel described (see :data:`CALL_CODE`), of the same kind: an
    ndarray, a NumPy scalar, a Python number, a list or tuple, None, or a stand-in object.

    Raises:
      ChannelError: a description the kernel's code does not make (interfered).
    """
    try:
        kind = description.get("kind")
        if kind == "none":
            return None
        if kind == "ndarray":
            return _array(description)
        if kind == "scalar":
            return _array({**description, "shape": []})[()]
        if kind == "python":
            number = _array({**description, "shape": []}).item()
            wanted = getattr(builtins, str(description.get("type")), None)
            if wanted not in (bool, int, float, complex) or type(number) is not wanted:
                raise ValueError("python type")
            return number
        if kind in ("list", "tuple"):
            items = _array(description).tolist()
            return items if kind == "list" else tuple(items)
        if kind == "too large":
            return stand_in("numpy", "ndarray", f" of {int(description.get('bytes', 0)):,} bytes, "
                                                f"too large for the grader")
        if kind == "other":
            return stand_in(str(description.get("module"))[:100], str(description.get("qualname"))[:100])
    except (AttributeError, TypeError, ValueError) as error:
        raise ChannelError(f"the kernel described a value the grader's code never describes "
                           f"({error})", interfered=True) from None
    raise ChannelError(f"the kernel described a value of unknown kind {kind!r}", interfered=True)


def exception(raised):
    """An exception like the one the student's function raised: the built-in class itself, or
    a class of the same name and module (so the checks' hints read it as the student's).

    ``raised`` is [name, module, message] and, from a call, the line of the student's code it
    came from; raised through :func:`raise_as_students`, the exception's traceback then ends on
    that line, as the public checks expect (they quote it in their hint)."""
    try:
        name, module, message, *rest = (str(part)[:MAX_MESSAGE] for part in raised)
    except (TypeError, ValueError):
        raise ChannelError("the kernel described an exception the grader's code never "
                           "describes", interfered=True) from None
    error = None
    if module == "builtins":
        kind = getattr(builtins, name, None)
        if isinstance(kind, type) and issubclass(kind, Exception):
            try:
                error = kind(message)
            except Exception:  # exception types with unusual constructors
                pass
    if error is None:
        error = type(name if name.isidentifier() else "Error", (Exception,),
                     {"__module__": module[:100]})(message)
    error.students_line = rest[0][:MAX_MESSAGE] if rest else ""
    return error


STUDENT_FILE = "<the student's notebook>"


def raise_as_students(error):
    """Raise ``error`` (from :func:`exception`) from a frame whose line is the student's line,
    so that a traceback read for "the student's line" finds that line, not the grader's."""
    line = getattr(error, "students_line", "").replace("\n", " ")
    linecache.cache[STUDENT_FILE] = (len(line), None, [line + "\n"], STUDENT_FILE)
    exec(compile("raise error", STUDENT_FILE, "exec"), {"error": error})


# ---------------------------------------------------------------------------------------------
# The student's function, called in the kernel
# ---------------------------------------------------------------------------------------------

class RemoteFunction:
    """Stands in, in the grader's process, for the student's function in the kernel.

    Calling it runs one grader's cell in ``session`` (a KernelSession) that calls the function of
    that name on copies of the arguments, and returns what the kernel answered as a Python value
    (or raises what the function raised). An array argument is changed afterwards as the
    student's function changed its own copy, so a check sees an in-place edit as it would. A
    call that runs past :data:`CALL_SECONDS` raises TimeoutError, as a slow function's would;
    a kernel that gives no usable answer raises :class:`ChannelError`.

    After one call that timed out, later calls raise the same TimeoutError at once without
    running: a function that stalls only when the grader calls it costs the grading one
    :data:`CALL_SECONDS`, not one per input (the checks try a dozen).

    The calls a check will make can be sent ahead, all in one cell (:meth:`prefetch`): each
    later call with exactly those arguments, in that order, takes its answer from there; the
    first call that differs, and every call after it, runs on its own. (One cell per call cost
    15 ms each: a grading makes about a hundred.)

    ``calls`` counts the calls answered; ``seconds`` adds up the time of the grader's cells.
    """

    def __init__(self, session, name):
        self.session = session
        self.__name__ = self.__qualname__ = name
        self.calls, self.seconds = 0, 0.0
        self.timed_out = False
        self._ahead = []  # [(the arguments as sent, the kernel's reply)], in call order

    def prefetch(self, calls):
        """Send ``calls`` (argument tuples) in one cell; their answers wait for the calls. Any
        trouble (a timeout, no usable answer) leaves nothing waiting: the calls then run one by
        one and meet it themselves."""
        self._ahead = []
        if self.timed_out or not calls or not self.session.alive:
            return
        encoded = [[encode(value) for value in arguments] for arguments in calls]
        result = self.session.execute(call_code(self.__name__, calls), CALL_SECONDS, MIME,
                                      MAX_REPLY)
        self.seconds += result.seconds
        try:
            replies = answer(result).get("replies")
        except ChannelError:
            return
        if not isinstance(replies, list) or len(replies) > len(calls):
            return
        for sent, reply in zip(encoded, replies):
            if not isinstance(reply, dict) or reply.get("raised", [""])[:1] == ["KeyboardInterrupt"]:
                break  # from here on the calls run one by one
            self._ahead.append((sent, reply))

    def __call__(self, *arguments):
        if self.timed_out:
            raise_as_students(TimeoutError(f"an earlier call took longer than {CALL_SECONDS} s "
                                           f"and was stopped; the grader made no further calls"))
        self.calls += 1
        sent = [encode(value) for value in arguments]
        if self._ahead and self._ahead[0][0] == sent:
            return self._use(self._ahead.pop(0)[1], arguments)
        self._ahead = []
        result = self.session.execute(call_code(self.__name__, [arguments]), CALL_SECONDS, MIME,
                                      MAX_REPLY)
        self.seconds += result.seconds
        if result.status == "timeout" and self.session.alive:
            self.timed_out = True
            raise_as_students(TimeoutError(f"the call took longer than {CALL_SECONDS} s and was "
                                           f"stopped"))
        replies = answer(result).get("replies")
        if not isinstance(replies, list) or len(replies) != 1 or not isinstance(replies[0], dict):
            raise ChannelError("the kernel's answer does not hold the one call's reply",
                               interfered=True)
        return self._use(replies[0], arguments)

    def _use(self, reply, arguments):
        """The call's result from the kernel's ``reply``: the arguments changed as the student's
        function changed them, then its value returned or its exception raised."""
        after = reply.get("after", [])
        if not isinstance(after, list) or len(after) != len(arguments):
            raise ChannelError("the kernel's answer does not describe the arguments after the "
                               "call", interfered=True)
        for given, described in zip(arguments, after):
            changed = value(described)
            if isinstance(given, np.ndarray) and isinstance(changed, np.ndarray) \
                    and changed.shape == given.shape:
                given[...] = changed
        if "raised" in reply:
            if reply["raised"][:1] == ["KeyboardInterrupt"]:
                self.timed_out = True
                raise_as_students(TimeoutError(f"the call took longer than {CALL_SECONDS} s and "
                                               f"was stopped"))
            raise_as_students(exception(reply["raised"]))
        if "returned" not in reply:
            raise ChannelError("the kernel's answer holds neither a result nor an exception",
                               interfered=True)
        return value(reply["returned"])


def read_model(session, name, probe):
    """What the kernel reports of the notebook's model ``name``: its Keras config, its weights,
    and its outputs on ``probe`` (a float32 array of inputs).

    Returns a dict: ``config`` (the parsed config, within :data:`MAX_CONFIG` characters and
    :data:`MAX_CONFIG_DEPTH` levels), ``type`` ("module.qualname"), ``weights`` (a list of
    arrays; absent past :data:`MAX_ARRAY_BYTES` in all), ``outputs`` (an array; absent when
    the model could not be called), or ``problem`` (why there is no config: not defined, not
    serializable, too large). ``weights``, ``outputs`` and ``probe`` come together, or not at
    all (a model too large to send, or one that could not be called).

    Raises:
      ChannelError: no usable answer.
    """
    probe = np.ascontiguousarray(probe, dtype="<f4")
    code = MODEL_CODE.format(name=name, max_config=MAX_CONFIG, max_message=MAX_MESSAGE, mime=MIME,
                             kinds=ARRAY_KINDS, max_bytes=MAX_ARRAY_BYTES,
                             probe_hex=probe.tobytes().hex(), probe_shape=list(probe.shape))
    reply = answer(session.execute(code, MODEL_SECONDS, MIME, MAX_REPLY))
    kind = reply.get("type")
    found = {"type": ".".join(str(part) for part in kind) if isinstance(kind, list) else ""}
    if "raised" in reply:
        error = exception(reply["raised"])
        found["problem"] = (f"{name} is not defined after running the notebook"
                            if type(error) is NameError else
                            f"the architecture of {name} ({found['type']}) could not be read: "
                            f"{type(error).__name__}: {error}")
        return found
    if "config" not in reply:
        found["problem"] = (f"the architecture of {name} is {int(reply.get('size', 0)):,} "
                            f"characters of config; the grader reads at most {MAX_CONFIG:,}")
        return found
    try:
        found["config"] = loads(str(reply["config"]), "the model's config", MAX_CONFIG,
                                MAX_CONFIG_DEPTH)
    except (LimitExceeded, ValueError) as error:
        found["problem"] = f"the architecture of {name} could not be read: {error}"
        return found
    weights, outputs = reply.get("weights"), reply.get("outputs")
    if isinstance(weights, list) and isinstance(outputs, dict) and outputs.get("kind") == "ndarray" \
            and all(isinstance(w, dict) and w.get("kind") == "ndarray" for w in weights):
        found.update(weights=[value(w) for w in weights], outputs=value(outputs), probe=probe)
    return found