"""The grader's code inside a submission's kernel: it records, it never judges.

The grader sends this module's source to the kernel (see :mod:`instructor.evidence`), where it
runs in a namespace of its own whose builtins are a private copy taken before the student's first
cell. Four stages, each started by the grader with a cell of its own:

- **baseline** (before the student's first cell, so nothing the student wrote has run yet):
  imports the lab's libraries and the instructor's ``public_tests``, keeps a reference to every
  watched object (library functions, classes, IPython's hooks, threads) and to each function the
  later stages call, and registers an audit hook (``sys.addaudithook``: it cannot be removed) as
  the only way back into this state. The hook answers one event name: a random token of the
  grader's, unknown to the notebook.
- **inspect** (after the student's last cell): compares every watched object with the pristine
  one by identity (``is``: an attribute such as ``__module__`` or ``__code__.co_filename`` can be
  forged, identity cannot), puts the pristine ones back, and removes what the notebook added:
  IPython event callbacks (except the lab's own, whose code belongs to ``public_tests``), input
  and AST transformers, trace and profile functions. Live threads the notebook started are
  reported (Python cannot stop them).
- **extract**: calls the student's softmax functions through the pristine public checks and on
  the hidden inputs (which reach the kernel only now, in this stage's cell), under a profiler
  that notes any call into the lab's checks or into this module, and records the model's
  architecture (its Keras config). Then inspects again: the student's code has just run.
- **seal**: checks once more that nothing of the student's can run, then serializes the evidence
  with this module's own encoder (built-in types only), signs it with an HMAC whose key reaches
  the kernel only in this last cell, and sends it as one ``display_data`` output of the grader's
  MIME type through the display publisher captured at baseline.

The grader (``instructor.evidence``) accepts evidence only with a valid signature. Everything here
catches its own errors and records them: a failure of the grader's code must never look like the
student's.
"""
import contextlib
import functools
import io
import signal
import sys
import threading
import types

MIME_TYPE = "application/vnd.lab-grader.evidence"
STATUS_MIME_TYPE = "application/vnd.lab-grader.status"
# Filenames an IPython kernel gives the code of notebook cells (ipykernel: /tmp/ipykernel_<pid>/).
NOTEBOOK_CODE_PREFIXES = ("<", "/tmp/ipykernel_")
# Data attributes of sys whose replacement would let the notebook's code run inside the grader's
# stages (a stream's write, a display hook) or change what they import.
SYS_DATA = ("stdout", "stderr", "displayhook", "excepthook", "modules", "meta_path")
# Names IPython rebinds on its own between cells.
VOLATILE_BUILTINS = ("_", "__", "___")

_FunctionType = types.FunctionType
_MethodType = types.MethodType
_ModuleType = types.ModuleType
_CodeType = types.CodeType
_func_code = _FunctionType.__code__.__get__
_func_globals = _FunctionType.__globals__.__get__
_method_func = _MethodType.__func__.__get__
_method_self = _MethodType.__self__.__get__
_type_dict = type.__dict__["__dict__"].__get__
_MISSING = object()


# ---------------------------------------------------------------------------------------------
# The encoder: built-in types only, so no library the notebook may have patched is involved
# ---------------------------------------------------------------------------------------------

class EncodeError(ValueError):
    """A value the evidence format cannot hold."""


def encode(value):
    """JSON text for ``value`` (None, bool, int, float, str, bytes, list, tuple, dict with str
    keys). Strings travel as the hex of their UTF-8 bytes (``{"s": hex}``), bytes as ``{"b": hex}``
    and floats as ``{"f": repr}`` (so nan and inf survive): the encoder never escapes text.

    Raises:
      EncodeError: a value of another type (its type is named), or nesting deeper than 64.
    """
    parts = []
    _encode_into(value, parts, 0)
    return "".join(parts)


def _encode_into(value, parts, depth):
    if depth > 64:
        raise EncodeError("evidence nested deeper than 64 levels")
    kind = type(value)
    if value is None or value is True or value is False:
        parts.append("null" if value is None else ("true" if value else "false"))
    elif kind is int:
        parts.append(int.__repr__(value))
    elif kind is float:
        parts.append('{"f":"' + float.__repr__(value) + '"}')
    elif kind is str:
        parts.append('{"s":"' + str.encode(value, "utf-8", "surrogatepass").hex() + '"}')
    elif kind is bytes:
        parts.append('{"b":"' + bytes.hex(value) + '"}')
    elif kind is list or kind is tuple:
        parts.append("[")
        for number, item in enumerate(value):
            if number:
                parts.append(",")
            _encode_into(item, parts, depth + 1)
        parts.append("]")
    elif kind is dict:
        parts.append('{"d":[')
        for number, (key, item) in enumerate(dict.items(value)):
            if type(key) is not str:
                raise EncodeError(f"a dict key of type {type(key).__name__}, expected str")
            if number:
                parts.append(",")
            parts.append('"' + str.encode(key, "utf-8", "surrogatepass").hex() + '",')
            _encode_into(item, parts, depth + 1)
        parts.append("]}")
    else:
        raise EncodeError(f"a value of type {kind.__module__}.{kind.__qualname__}")


# ---------------------------------------------------------------------------------------------
# Identity helpers: the real type and code of an object, never its own claims about them
# ---------------------------------------------------------------------------------------------

def describe(value):
    """A short text naming an object, for the instructor's report only (it decides nothing).

    Reads only the real type and, for functions, the real code object's file and line.
    """
    kind = type(value)
    text = f"{_type_name(kind)}"
    if kind is _FunctionType:
        code = _func_code(value)
        text += f" {code.co_name} from {_origin(code.co_filename)}:{code.co_firstlineno}"
    elif kind is _MethodType:
        text += f" of {describe(_method_func(value))}"
    return text


def _type_name(cls, full=False):
    """``module.qualname`` of a class, read through ``type``'s own descriptors; builtins are
    named without their module unless ``full``."""
    module = type.__dict__["__module__"].__get__(cls)
    name = type.__dict__["__qualname__"].__get__(cls)
    module = module if type(module) is str else "?"
    if module == "builtins" and not full:
        return name
    return f"{module}.{name}"


def _origin(filename):
    if filename.startswith(NOTEBOOK_CODE_PREFIXES):
        return "a notebook cell"
    return filename


def from_notebook(code):
    """Whether a code object was compiled from a notebook cell (or from a string)."""
    return type(code) is _CodeType and code.co_filename.startswith(NOTEBOOK_CODE_PREFIXES)


def notebook_made(value):
    """Whether a callable's code was written in the notebook: a function, method or partial of
    one, or an object whose class has a method compiled from a notebook cell."""
    function = underlying_function(value)
    if type(function) is _FunctionType:
        return from_notebook(_func_code(function))
    for cls in type(function).__mro__[:-1]:
        for member in list(_type_dict(cls).values()):
            member = underlying_function(member)
            if type(member) is _FunctionType and from_notebook(_func_code(member)):
                return True
    return False


def code_objects(namespace, owner_name):
    """{id: code object} of every function defined in ``namespace`` (a module's dict), the
    methods of the classes it defines, and the functions nested in them."""
    found = {}

    def add(code):
        if type(code) is _CodeType and id(code) not in found:
            found[id(code)] = code
            for constant in code.co_consts:
                add(constant)

    def add_function(value):
        if type(value) is _FunctionType:
            add(_func_code(value))
        elif type(value) in (staticmethod, classmethod):
            add_function(value.__func__)
        elif type(value) is property:
            for accessor in (value.fget, value.fset, value.fdel):
                add_function(accessor)

    for value in list(namespace.values()):
        add_function(value)
        if isinstance(value, type) and _type_dict(value).get("__module__") == owner_name:
            for member in list(_type_dict(value).values()):
                add_function(member)
    return found


def underlying_function(value):
    """The plain function behind a bound method or a functools.partial, else ``value``."""
    for _ in range(16):  # partials of partials: a short chain is enough
        if type(value) is _MethodType:
            value = _method_func(value)
        elif type(value) is functools.partial:
            value = functools.partial.func.__get__(value)
        else:
            return value
    return value


# ---------------------------------------------------------------------------------------------
# Watched objects: a pristine copy of their attributes, compared and restored by identity
# ---------------------------------------------------------------------------------------------

class Watched:
    """One module, class or instance whose attributes are compared with a pristine copy.

    ``everything``: watch every attribute (the lab's checks); otherwise callables, classes and
    modules only (a library's data may change as it is used).
    """

    def __init__(self, label, target, everything=False, extra=()):
        self.label, self.target = label, target
        self.namespace = target.__dict__ if isinstance(target, _ModuleType) else _attributes(target)
        self.pristine = {}
        for name, value in list(self.namespace.items()):
            if everything or callable(value) or name in extra:
                if not (name.startswith("__") and name.endswith("__") and not callable(value)):
                    self.pristine[name] = value
        self.names = frozenset(self.namespace)

    def changes(self, restore):
        """[(name, what happened)] since the pristine copy; with ``restore``, undone."""
        found = []
        now = self.namespace if isinstance(self.target, _ModuleType) else _attributes(self.target)
        for name, old in self.pristine.items():
            new = now.get(name, _MISSING)
            if new is old or _same_method(new, old) or name in VOLATILE_BUILTINS:
                continue
            found.append((name, "deleted" if new is _MISSING else f"replaced by {describe(new)}"))
            if restore:
                self._set(name, old)
        for name in list(now):
            if name in self.names or name in VOLATILE_BUILTINS:
                continue
            value = now[name]
            if type(value) is _FunctionType and from_notebook(_func_code(value)):
                found.append((name, f"added: {describe(value)}"))
                if restore:
                    self._delete(name)
        return found

    def _set(self, name, value):
        if isinstance(self.target, _ModuleType):
            self.namespace[name] = value
        else:
            object.__setattr__(self.target, name, value) if not isinstance(self.target, type) \
                else type.__setattr__(self.target, name, value)

    def _delete(self, name):
        if isinstance(self.target, _ModuleType):
            self.namespace.pop(name, None)
        elif isinstance(self.target, type):
            type.__delattr__(self.target, name)
        else:
            object.__delattr__(self.target, name)


def _attributes(target):
    if isinstance(target, type):
        return dict(_type_dict(target))
    try:
        return object.__getattribute__(target, "__dict__")
    except AttributeError:
        return {}


def _same_method(new, old):
    """A bound method IPython re-creates between cells (``builtins.input``) is not a change."""
    return (type(new) is _MethodType and type(old) is _MethodType
            and _method_func(new) is _method_func(old) and _method_self(new) is _method_self(old))


def _resolve(path):
    """The object at a dotted path of an imported module ("numpy._core.numeric", "keras.ops")."""
    import importlib
    head, *rest = path.split(".")
    value = importlib.import_module(head)
    for part in rest:
        try:
            value = getattr(value, part)
        except AttributeError:
            value = importlib.import_module(f"{value.__name__}.{part}")
    return value


# ---------------------------------------------------------------------------------------------
# The probe's state, from baseline to seal
# ---------------------------------------------------------------------------------------------

class _CallTookTooLong(BaseException):
    """BaseException: a student's ``except Exception`` must not swallow the grader's limit."""


class Probe:
    """The state the baseline captured and the stages that use it.

    Args:
      settings: dict with ``watched`` (dotted module paths), ``watched_prefixes`` (every loaded
        module whose name starts with one of them), ``checks`` (public check names),
        ``softmax`` ({function name: public check name}), ``model`` (the model's name),
        ``model_check`` and ``model_check_arguments`` (its public check and the arguments
        after the model),
        ``per_call`` (seconds per call of a student's function), ``public_tests`` (module name).
      shell: the IPython shell, or None (unit tests).
      publish: function(data=dict, metadata=dict) sending a display_data; defaults to the
        shell's display publisher.
    """

    def __init__(self, settings, shell=None, publish=None):
        import importlib
        self.settings, self.shell = settings, shell
        self.errors = []
        self.evidence = {"baseline_errors": self.errors, "inspections": [], "softmax": {},
                         "model": {}, "checks": {}}
        for name in ("numpy", "tensorflow", "keras", settings["public_tests"]):
            try:
                importlib.import_module(name)
            except Exception as error:  # recorded: the grader reports it as its own failure
                self.errors.append(f"import {name}: {type(error).__name__}: {error}")
        self._capture_functions(publish)
        self.public_tests = sys.modules.get(settings["public_tests"])
        public_dict = self.public_tests.__dict__ if self.public_tests else {}
        self.lab_codes = code_objects(public_dict, settings["public_tests"])
        self.lab_values = {id(value): value for value in public_dict.values() if callable(value)}
        self.watched = self._watch()
        self._snapshot_hooks()

    # -- baseline -------------------------------------------------------------------------------
    def _capture_functions(self, publish):
        import numpy
        self.np_array, self.np_frombuffer = numpy.array, numpy.frombuffer
        self.ndarray, self.np_generic = numpy.ndarray, numpy.generic
        self.settrace, self.gettrace = sys.settrace, sys.gettrace
        self.setprofile, self.getprofile = sys.setprofile, sys.getprofile
        self.enumerate_threads, self.main_thread = threading.enumerate, threading.main_thread
        self.signal, self.setitimer = signal.signal, signal.setitimer
        self.string_io, self.redirect_stdout = io.StringIO, contextlib.redirect_stdout
        try:
            import _hashlib
            self.hmac_digest = _hashlib.hmac_digest
        except (ImportError, AttributeError):  # Python built without OpenSSL
            import hmac
            self.hmac_digest = hmac.digest
        try:
            import keras
            self.serialize_keras = keras.saving.serialize_keras_object
        except Exception as error:
            self.serialize_keras = None
            self.errors.append(f"keras.saving: {type(error).__name__}: {error}")
        if publish is None and self.shell is not None:
            publish = self.shell.display_pub.publish
        self.publish = publish

    def _watch(self):
        watched = []
        everything = {self.settings["public_tests"]}
        paths = list(self.settings["watched"])
        prefixes = tuple(self.settings.get("watched_prefixes", ()))
        paths += sorted(name for name in list(sys.modules)
                        if prefixes and name.startswith(prefixes) and name not in paths)
        for path in paths:
            try:
                target = _resolve(path)
            except Exception:
                continue  # not installed, or not imported by the libraries at baseline
            if isinstance(target, _ModuleType):
                watched.append(Watched(path, target, path in everything,
                                       SYS_DATA if path == "sys" else ()))
        if self.shell is not None:
            classes = []
            for label, target in self._shell_objects().items():
                watched.append(Watched(f"{label} (instance)", target))
                for cls in type(target).__mro__[:-1]:
                    if not any(cls is seen for seen in classes):
                        classes.append(cls)
                        watched.append(Watched(f"class {_type_name(cls, full=True)}", cls))
        self.modules = {item.label: item.target for item in watched
                        if isinstance(item.target, _ModuleType)}
        self.meta_path = list(sys.meta_path)
        return watched

    def _shell_objects(self):
        shell = self.shell
        return {"shell": shell, "shell.display_pub": shell.display_pub,
                "shell.events": shell.events, "shell.displayhook": shell.displayhook,
                "shell.input_transformer_manager": shell.input_transformer_manager,
                "session": getattr(shell.display_pub, "session", None) or shell}

    def _hook_lists(self):
        """{label: the live list} of IPython's event callbacks and input/AST transformers."""
        if self.shell is None:
            return {}
        shell, manager = self.shell, self.shell.input_transformer_manager
        lists = {f"event {name}": callbacks for name, callbacks in shell.events.callbacks.items()}
        lists.update({"input transformer (cleanup)": manager.cleanup_transforms,
                      "input transformer (line)": manager.line_transforms,
                      "input transformer (token)": manager.token_transformers,
                      "input transformer (post)": shell.input_transformers_post,
                      "AST transformer": shell.ast_transformers})
        return lists

    def _snapshot_hooks(self):
        self.hooks = {label: (items, list(items)) for label, items in self._hook_lists().items()}
        self.shell_parts = dict(self._shell_objects()) if self.shell is not None else {}
        self.user_ns = self.shell.user_ns if self.shell is not None else None
        self.tracers = (self.gettrace(), self.getprofile(),
                        getattr(threading, "_trace_hook", None),
                        getattr(threading, "_profile_hook", None))
        self.threads = {id(thread): thread for thread in self.enumerate_threads()}

    # -- inspect --------------------------------------------------------------------------------
    def inspect(self, when):
        """Compare with the baseline, restore it, and record what was found under ``when``."""
        found = {"when": when, "changes": [], "hooks": [], "tracers": [], "threads": [],
                 "shell": []}
        self.evidence["inspections"].append(found)
        self._restore_tracers(found)
        self._restore_shell(found)
        for item in self.watched:
            try:
                for name, what in item.changes(restore=True):
                    found["changes"].append([item.label, name, what])
            except Exception as error:
                found["changes"].append([item.label, "", f"could not be compared: "
                                                         f"{type(error).__name__}: {error}"])
        for name, module in self.modules.items():
            if sys.modules.get(name, module) is not module:
                found["changes"].append([name, "", "the module was replaced in sys.modules"])
                sys.modules[name] = module
        if list(sys.meta_path) != self.meta_path or any(
                a is not b for a, b in zip(sys.meta_path, self.meta_path)):
            found["changes"].append(["sys", "meta_path", "import hooks were added or changed"])
            sys.meta_path[:] = self.meta_path
        self._remove_hooks(found)
        self._find_threads(found)
        return found

    def _restore_tracers(self, found):
        trace, profile, thread_trace, thread_profile = self.tracers
        if self.gettrace() is not trace:
            found["tracers"].append(f"sys.settrace: {describe(self.gettrace())}")
            self.settrace(trace if callable(trace) else None)
        if self.getprofile() is not profile:
            found["tracers"].append(f"sys.setprofile: {describe(self.getprofile())}")
            self.setprofile(profile if callable(profile) else None)
        for name, pristine in (("_trace_hook", thread_trace), ("_profile_hook", thread_profile)):
            now = threading.__dict__.get(name)
            if now is not pristine:
                found["tracers"].append(f"threading.{name[1:-5]}: {describe(now)}")
                threading.__dict__[name] = pristine

    def _restore_shell(self, found):
        if self.shell is None:
            return
        for label, pristine in self.shell_parts.items():
            try:
                now = self._shell_objects()[label]
            except Exception as error:
                now = error
            if now is not pristine:
                found["shell"].append(f"{label} was replaced by {describe(now)}")
                owner = self.shell_parts["shell.display_pub"] if label == "session" else self.shell
                if label != "shell":
                    setattr(owner, label.split(".")[-1], pristine)
        if self.shell.user_ns is not self.user_ns:
            found["shell"].append("the shell's user namespace was replaced")

    def _remove_hooks(self, found):
        """Remove every hook added since the baseline, except the lab's own. A library the
        notebook imports may add some (matplotlib does): all go, since none is needed to record
        the evidence, and the report tells the notebook's own from the others."""
        for label, (live, pristine) in self.hooks.items():
            kept = []
            for hook in list(live):
                if any(hook is item for item in pristine) or self._is_lab_own(hook):
                    kept.append(hook)
                else:
                    found["hooks"].append({"where": label, "what": describe(hook),
                                           "from_notebook": notebook_made(hook)})
            live[:] = kept

    def _is_lab_own(self, hook):
        """A callback whose code and globals are the instructor's public_tests (the lab may
        register callbacks from its own file)."""
        function = underlying_function(hook)
        return (type(function) is _FunctionType and id(_func_code(function)) in self.lab_codes
                and _func_code(function) is self.lab_codes[id(_func_code(function))]
                and self.public_tests is not None
                and _func_globals(function) is self.public_tests.__dict__)

    def _find_threads(self, found):
        for thread in self.enumerate_threads():
            if id(thread) in self.threads and self.threads[id(thread)] is thread:
                continue
            if not thread.is_alive():
                continue
            run = underlying_function(type(thread).run)
            target = underlying_function(thread.__dict__.get("_target"))
            codes = [_func_code(f) for f in (run, target) if type(f) is _FunctionType]
            notebook = any(from_notebook(code) for code in codes)
            found["threads"].append({"name": str(thread.__dict__.get("_name", "")),
                                     "from_notebook": notebook,
                                     "code": ", ".join(describe(f) for f in (run, target)
                                                       if type(f) is _FunctionType)})

    # -- extract --------------------------------------------------------------------------------
    def extract(self, hidden):
        """Record the student's functions and model; ``hidden`` is a list of encoded arrays."""
        arrays = self.evidence.setdefault("arrays", {})
        hidden_inputs = [self._decode_array(item) for item in hidden]
        namespace = self.user_ns if self.user_ns is not None else {}
        for name in self.settings["checks"]:
            value = namespace.get(name, _MISSING)
            pristine = self.public_tests.__dict__.get(name) if self.public_tests else None
            self.evidence["checks"][name] = {
                "defined": value is not _MISSING,
                "instructors": value is pristine and pristine is not None,
                "about": describe(value) if value is not _MISSING else ""}
        for function_name, check_name in self.settings["softmax"].items():
            self.evidence["softmax"][function_name] = self._record_softmax(
                namespace, function_name, check_name, hidden_inputs, arrays)
        self.evidence["model"] = self._record_model(namespace.get(self.settings["model"], _MISSING))
        self.inspect("after the grader called the student's code")

    def _decode_array(self, item):
        dtype, shape, data = item
        return self.np_frombuffer(bytes.fromhex(data), dtype=dtype).reshape(shape).copy()

    def _save(self, arrays, value):
        array = self.np_array(value, copy=True)
        key = f"a{len(arrays)}"
        arrays[key] = [array.dtype.str, list(array.shape), self.ndarray.tobytes(array).hex()]
        return key

    def _borrowed_from_checks(self, function):
        """Whether ``function`` is the lab's check code itself (or a partial or method of it)."""
        if any(function is value for value in self.lab_values.values()):
            return True
        inner = underlying_function(function)
        return type(inner) is _FunctionType and (
            self.lab_codes.get(id(_func_code(inner))) is _func_code(inner))

    def _record_softmax(self, namespace, function_name, check_name, hidden_inputs, arrays):
        student = namespace.get(function_name, _MISSING)
        entry = {"defined": student is not _MISSING, "callable": callable(student)
                 if student is not _MISSING else False, "borrowed_calls": [],
                 "profiler_removed": False}
        if not entry["callable"]:
            return entry
        entry["about"] = describe(student)
        entry["taken_from_checks"] = self._borrowed_from_checks(student)
        public_calls, hidden_calls = [], []

        def recorder(z):
            return self._record_call(student, public_calls, "public", z, arrays, entry)

        check = self.public_tests.__dict__.get(check_name) if self.public_tests else None
        printed = self.string_io()
        try:
            with self.redirect_stdout(printed):
                # The Outcome, not an exception: the optional challenge's check never raises.
                outcome = check(recorder, return_outcome=True)
            entry["in_kernel_public_check"] = ("passed" if outcome.status == "passed" else
                                               f"{outcome.status}: {outcome.message[:300]}")
        except Exception as error:
            entry["in_kernel_public_check"] = f"error: {type(error).__name__}: {str(error)[:300]}"
        entry["public_calls"] = public_calls
        for z in hidden_inputs:
            try:
                self._record_call(student, hidden_calls, "hidden", z, arrays, entry)
            except Exception:
                pass  # recorded; judged by the grader
        entry["hidden_calls"] = hidden_calls
        return entry

    def _record_call(self, function, calls, phase, z, arrays, entry):
        """Call the student's ``function`` on z under the grader's profiler and time limit;
        record input, output or exception and the input afterwards; re-raise."""
        call = {"phase": phase, "input": self._save(arrays, z)}
        calls.append(call)
        borrowed = entry["borrowed_calls"]
        # Only the lab's checks hold an answer: the grader's own code also runs during a
        # student's call (its audit hook on every audited event, its alarm handler).
        lab_codes = self.lab_codes

        def profiler(frame, event, argument):
            if event == "call":
                code = frame.f_code
                if lab_codes.get(id(code)) is code and len(borrowed) < 20:
                    borrowed.append(f"{code.co_name} (the lab checks)")

        can_time = threading.current_thread() is self.main_thread()
        if can_time:
            previous = self.signal(signal.SIGALRM, _on_alarm)
            self.setitimer(signal.ITIMER_REAL, self.settings["per_call"])
        saved_profile = self.getprofile()
        self.setprofile(profiler)
        try:
            output = function(z)
        except _CallTookTooLong:
            limit = self.settings["per_call"]
            call["exception"] = {"type": "TimeoutError", "builtin": True,
                                 "message": f"the call took longer than {limit} s"}
            raise TimeoutError(call["exception"]["message"]) from None
        except Exception as error:
            call["exception"] = {"type": type(error).__name__, "message": str(error)[:500],
                                 "builtin": type(error).__module__ == "builtins"}
            raise
        finally:
            if self.getprofile() is not profiler:
                entry["profiler_removed"] = True
            self.setprofile(saved_profile)
            if can_time:
                self.setitimer(signal.ITIMER_REAL, 0)
                self.signal(signal.SIGALRM, previous)
            call["input_after"] = self._save(arrays, z)
        call.update(self._describe_output(output, arrays))
        return output

    def _describe_output(self, output, arrays):
        kind = type(output)
        info = {"output_type": _type_name(kind, full=True)}
        if output is None:
            info["kind"] = "none"
        elif issubclass(kind, self.ndarray) and output.dtype.kind in "biufc":
            info.update(kind="ndarray", output=self._save(arrays, output))
        elif issubclass(kind, self.np_generic) and output.dtype.kind in "biufc":
            info.update(kind="numpy_scalar", output=self._save(arrays, output))
        elif kind in (bool, int, float, complex):
            info.update(kind="python_scalar", output=self._save(arrays, output))
        elif kind in (list, tuple):
            try:
                value = self.np_array(output)
            except Exception:
                value = None
            if value is not None and value.dtype.kind in "biufc":
                info.update(kind=kind.__name__, output=self._save(arrays, value))
            else:
                info["kind"] = "other"
        else:
            info["kind"] = "other"
        return info

    def _record_model(self, model):
        info = {"defined": model is not _MISSING}
        if model is _MISSING or model is None:
            return info
        info["type"] = _type_name(type(model))
        info["in_kernel_public_check"] = self._model_check(model)
        if self.serialize_keras is None:
            info["config_error"] = "Keras could not be imported in the kernel"
            return info
        try:
            config = self.serialize_keras(model)
            encode(config)  # only plain data travels
            info["config"] = config
        except Exception as error:
            info["config_error"] = f"{type(error).__name__}: {str(error)[:300]}"
        return info

    def _model_check(self, model):
        """The pristine public check on the model as the notebook left it. A config keeps an
        activation's name, not its code (a function named "relu" that computes something else
        is rebuilt as ReLU), so the grader also wants this verdict on the real object."""
        check = self.public_tests.__dict__.get(self.settings["model_check"]) \
            if self.public_tests else None
        if check is None:
            return "error: the lab's model check is missing"
        try:
            with self.redirect_stdout(self.string_io()):
                check(model, *self.settings["model_check_arguments"])
            return "passed"
        except AssertionError as error:
            return f"failed: {str(error)[:500]}"
        except Exception as error:
            return f"error: {type(error).__name__}: {str(error)[:300]}"

    # -- seal -----------------------------------------------------------------------------------
    def seal(self, key):
        """Check nothing of the student's can run now, then sign and send the evidence."""
        found = self.inspect("before sealing")
        try:
            text = encode(self.evidence)
        except Exception as error:  # the grader's own failure: still sent, and signed
            text = encode({"seal_error": f"{type(error).__name__}: {str(error)[:300]}",
                           "baseline_errors": self.errors})
        signature = self.hmac_digest(key, str.encode(text, "utf-8"), "sha256").hex()
        self.publish(data={MIME_TYPE: signature + "\n" + text}, metadata={})
        return found

    # -- the audit hook -------------------------------------------------------------------------
    def dispatch(self, stage, payload):
        """Run one stage; an error is recorded in the evidence, never raised at the notebook."""
        try:
            if stage == "inspect":
                self.inspect("after the notebook's last cell")
            elif stage == "extract":
                self.extract(payload)
            elif stage == "seal":
                self.seal(bytes.fromhex(payload))
            else:
                self.errors.append(f"unknown stage {stage!r}")
        except Exception as error:  # the grader's own failure: reported, not raised
            self.errors.append(f"stage {stage}: {type(error).__name__}: {str(error)[:300]}")


def _on_alarm(signum, frame):
    raise _CallTookTooLong()


def audit_hook(token, probe):
    """The audit hook that runs ``probe``'s stage on the event ``token`` (args: stage, payload).

    CPython runs audit hooks with tracing and profiling switched off unless the hook says it
    can be traced; the extract stage needs its profiler, and the notebook's own tracers are
    removed by the inspect stage before anything secret arrives.
    """
    def hook(event, arguments, _token=token, _probe=probe):
        if event == _token:
            _probe.dispatch(*arguments)

    hook.__cantrace__ = True
    return hook


def install(token, settings):
    """Baseline: capture the pristine state and register the audit hook answering ``token``.

    Called once, in the kernel, before the student's first cell.
    """
    from IPython import get_ipython
    probe = Probe(settings, get_ipython())
    sys.addaudithook(audit_hook(token, probe))
    probe.publish(data={STATUS_MIME_TYPE: "installed" if not probe.errors else
                        "installed with errors: " + "; ".join(probe.errors)}, metadata={})
