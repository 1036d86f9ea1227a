"""What a submitted notebook's code does, read without running it.

Parses every code cell (IPython magics and shell lines become ``pass``) and names what it sees:
the public checks' names defined, assigned, imported under another name or deleted; attributes
of the lab's libraries (and of their objects) assigned, deleted or ``setattr()``-ed; hooks that
make the notebook's code run inside other code (IPython callbacks and transformers, audit hooks,
trace and profile functions); walks through the interpreter's state (the garbage collector's
objects, stack frames, ctypes); helper files written; threads started; an answer bound to the
lab's own reference code; and, as warnings, constructs an honest notebook has no use for.

None of this decides a mark (see :mod:`instructor.findings.registry`): a static reading can be
fooled by code that builds its names at run time, and it need not be exact, since marks come
from values judged outside the kernel. It tells the instructor where to look.
"""
import ast
import re

from instructor.findings.registry import finding
from instructor.lab.files import HELPER_FILES
from instructor.lab.spec import CHECK_FUNCTIONS, EXERCISES

# Imported packages whose attributes (and whose objects' attributes) a notebook must never set.
WATCHED_PACKAGES = {"numpy", "tensorflow", "keras", "public_tests", "builtins", "math", "sys",
                    "autils", "lab_utils_softmax", "scipy", "importlib", "IPython", "ipykernel",
                    "jupyter_client", "json", "threading", "gc", "inspect", "types"}
SUSPICIOUS_CALLS = {"exec", "eval", "compile", "__import__", "globals", "setattr", "delattr"}
# Calls that make the notebook's code run when other code runs.
HOOKS = {"addaudithook", "settrace", "setprofile", "set_custom_exc", "register_magic_function",
         "set_hook", "setswitchinterval"}
HOOK_ATTRIBUTES = {"input_transformers_post", "input_transformers_cleanup", "ast_transformers",
                   "displayhook", "excepthook", "breakpointhook", "meta_path", "path_hooks"}
# IPython's lists of code transformers: a notebook has no honest use for even reading them.
TRANSFORMER_ATTRIBUTES = {"input_transformers_post", "input_transformers_cleanup",
                          "ast_transformers"}
# Calls and attributes that reach the interpreter's own state.
INTROSPECTION_CALLS = {"get_objects", "get_referrers", "get_referents", "_getframe",
                       "currentframe", "getouterframes", "stack", "_current_frames",
                       "getmembers_static"}
INTROSPECTION_OWNERS = {"gc", "sys", "inspect", "threading", "traceback"}
INTROSPECTION_ATTRIBUTES = {"f_back", "f_globals", "f_locals", "f_builtins", "tb_frame",
                            "gi_frame", "cr_frame"}
THREAD_CALLS = {"Thread", "start_new_thread", "start_new", "Process", "Popen", "fork",
                "Timer", "ThreadPoolExecutor", "ProcessPoolExecutor"}
# The lab's reference code in public_tests.py: an answer that is, or calls, one of these.
REFERENCES = {"_softmax", "_keras_cross_entropy", "softmax_output_problem",
              "cross_entropy_output_problem"}
ANSWER_NAMES = {exercise.answer for exercise in EXERCISES}
MODEL_NAMES = {exercise.answer for exercise in EXERCISES if exercise.kind == "model"}
MODEL_METHODS = {"predict", "predict_on_batch", "evaluate", "fit", "call", "__call__", "compile",
                 "get_config", "get_weights", "set_weights", "summary", "save", "to_json",
                 "__class__", "__dict__", "__getattr__", "__getattribute__", "__reduce__",
                 "layers", "get_layer"}


def python_source(cell_source):
    """A cell's source as Python: IPython magics and shell lines become `pass` (same lines)."""
    lines = cell_source.split("\n")
    if lines and lines[0].lstrip().startswith("%%"):
        return "\n".join("pass" if i == 0 else "# " + line for i, line in enumerate(lines))
    return "\n".join(re.sub(r"^(\s*)[%!].*$", r"\1pass", line) for line in lines)


def static_findings(submission):
    """The findings of every code cell of ``submission`` (a notebook), each kind and message
    once."""
    findings = []
    trees = []
    for index, cell in enumerate(submission.cells):
        if cell.cell_type != "code":
            continue
        findings += _magic_findings(cell.source, index)
        try:
            trees.append((index, ast.parse(python_source(cell.source))))
        except SyntaxError:
            continue  # the cell fails when run; nothing to scan
    aliases = _module_aliases(tree for _, tree in trees)
    for index, tree in trees:
        scanner = _Scanner(index, aliases)
        scanner.visit(tree)
        findings += scanner.findings
    return _unique(findings)


def _module_aliases(trees):
    """{name in the notebook: watched package (or object of one) it is bound to}."""
    aliases = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    root = alias.name.split(".")[0]
                    if root in WATCHED_PACKAGES:
                        aliases[alias.asname or root] = alias.name if alias.asname else root
            elif isinstance(node, ast.ImportFrom) and node.module:
                root = node.module.split(".")[0]
                if root in WATCHED_PACKAGES:
                    for alias in node.names:
                        aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    for name in ("np", "tf", "keras", "public_tests", "builtins", "__builtins__", "sys", "math"):
        aliases.setdefault(name, {"np": "numpy", "tf": "tensorflow"}.get(name, name))
    return aliases


def _magic_findings(source, index):
    """``%%writefile public_tests.py`` and shell commands that touch the helper files."""
    findings = []
    for line in source.split("\n"):
        stripped = line.strip()
        if not stripped.startswith(("%", "!")):
            continue
        touched = [name for name in HELPER_FILES if name in stripped]
        if stripped.startswith("%%writefile") and touched:
            findings.append(finding("helper_file_written",
                                    f"cell {index} overwrites {touched[0]} (`{stripped[:60]}`)", index))
        elif touched:
            findings.append(finding("helper_file_shell",
                                    f"cell {index} runs a command on {touched[0]} (`{stripped[:60]}`)",
                                    index))
    return findings


def _exercise_of(text):
    for exercise in EXERCISES:
        if re.search(rf"\b({exercise.check_function}|{exercise.answer})\b", text):
            return exercise.id
    return None


class _Scanner(ast.NodeVisitor):
    """Collects findings in one cell's syntax tree."""

    def __init__(self, index, aliases):
        self.index, self.aliases, self.findings = index, aliases, []
        self.function = None  # the function being defined, when inside one

    def _add(self, kind, message):
        self.findings.append(finding(kind, f"cell {self.index}: {message}", self.index,
                                     _exercise_of(message)))

    # Binding a check function's name, and what an answer is bound to ---------------------------
    def visit_FunctionDef(self, node):
        if node.name in CHECK_FUNCTIONS:
            self._add("check_redefined", f"defines a function named {node.name}")
        outer, self.function = self.function, node.name
        self.generic_visit(node)
        self.function = outer

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        if node.name in CHECK_FUNCTIONS:
            self._add("check_redefined", f"defines a class named {node.name}")
        self.generic_visit(node)

    def visit_Assign(self, node):
        names = {target.id for target in node.targets if isinstance(target, ast.Name)}
        if names & ANSWER_NAMES and self._uses_reference(node.value):
            self._add("answer_uses_checks", f"binds {', '.join(sorted(names & ANSWER_NAMES))} "
                                            f"to the lab's reference code")
        self.generic_visit(node)

    def _uses_reference(self, node):
        return any(isinstance(item, (ast.Attribute, ast.Name))
                   and (getattr(item, "attr", None) or getattr(item, "id", None)) in REFERENCES
                   for item in ast.walk(node))

    def visit_Name(self, node):
        if isinstance(node.ctx, (ast.Store, ast.Del)) and node.id in CHECK_NAMES:
            verb = "deletes" if isinstance(node.ctx, ast.Del) else "assigns"
            self._add("check_redefined", f"{verb} the name {node.id}")
        if node.id == "__builtins__":
            self._add("builtins_access", "uses __builtins__")
        if isinstance(node.ctx, ast.Load) and node.id in REFERENCES and self.function in ANSWER_NAMES:
            self._add("answer_uses_checks", f"{self.function} calls the lab's reference {node.id}")

    def visit_Import(self, node):
        for alias in node.names:
            root = alias.name.split(".")[0]
            if alias.asname in CHECK_NAMES:
                self._add("check_redefined", f"imports {alias.name} under the name {alias.asname}")
            if root == "builtins":
                self._add("builtins_access", "imports builtins")
            if root in ("ctypes", "_ctypes"):
                self._add("introspection", f"imports {alias.name}")

    def visit_ImportFrom(self, node):
        module = node.module or ""
        for alias in node.names:
            bound = alias.asname or alias.name
            honest = module == "public_tests" and alias.name == bound
            if bound in CHECK_NAMES and not honest:
                self._add("check_redefined", f"binds {bound} to {module}.{alias.name}")
            if module == "public_tests" and alias.name in REFERENCES:
                self._add("answer_uses_checks", f"imports the lab's reference {alias.name}")
            if alias.name == "*" and module != "public_tests":
                self._add("star_import", f"`from {module} import *` may replace the checks")
            if module.split(".")[0] == "builtins":
                self._add("builtins_access", "imports from builtins")
            if module.split(".")[0] in ("ctypes", "_ctypes"):
                self._add("introspection", f"imports from {module}")

    # Changing a library, hooking, walking the interpreter ------------------------------------------
    def visit_Attribute(self, node):
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            target = self._watched_root(node.value)
            if node.attr in HOOK_ATTRIBUTES:
                self._add("hook_installed", f"sets {target or 'the'} {node.attr}".replace("the ", ""))
            elif _model_method(node.value, node.attr):
                self._add("monkeypatch", f"assigns {node.value.id}.{node.attr}")
            elif target:
                verb = "deletes" if isinstance(node.ctx, ast.Del) else "assigns"
                kind = "check_redefined" if node.attr in CHECK_NAMES else "monkeypatch"
                self._add(kind, f"{verb} {target}.{node.attr}")
        elif node.attr in TRANSFORMER_ATTRIBUTES:  # read to be appended to, maybe by an alias
            self._add("hook_installed", f"reaches IPython's {node.attr}")
        elif node.attr in INTROSPECTION_ATTRIBUTES and node.attr.startswith(("f_", "tb_", "gi_",
                                                                              "cr_")):
            self._add("introspection", f"reads .{node.attr}")
        elif node.attr in REFERENCES and self.function in ANSWER_NAMES:
            self._add("answer_uses_checks", f"{self.function} calls the lab's reference {node.attr}")
        self.generic_visit(node)

    def visit_Subscript(self, node):
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            target = self._watched_root(node.value)
            if target:
                self._add("monkeypatch", f"changes an item of {target}")
            elif isinstance(node.value, ast.Call) and getattr(node.value.func, "id", "") in (
                    "globals", "vars", "locals"):
                key = node.slice.value if isinstance(node.slice, ast.Constant) else None
                if key in CHECK_NAMES:
                    self._add("check_redefined", f"assigns {key} through globals()")
                else:
                    self._add("namespace_write", "assigns through globals()/vars()")
        self.generic_visit(node)

    def visit_Call(self, node):
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name in ("setattr", "delattr") and node.args:
            target = self._watched_root(node.args[0])
            attribute = node.args[1].value if len(node.args) > 1 and isinstance(
                node.args[1], ast.Constant) else None
            if target or _model_method(node.args[0], attribute):
                self._add("monkeypatch", f"calls {name} on {target or node.args[0].id}")
            else:
                self._add("suspicious_call", f"calls {name}()")
        elif name in ("append", "insert", "extend") and isinstance(node.func, ast.Attribute) \
                and getattr(node.func.value, "attr", None) in HOOK_ATTRIBUTES:
            self._add("hook_installed", f"adds to {node.func.value.attr}")
        elif name in HOOKS or (name == "register" and "events" in ast.unparse(node.func)):
            self._add("hook_installed", f"calls {ast.unparse(node.func)[:60]}()")
        elif name in INTROSPECTION_CALLS and self._from_module(node.func, INTROSPECTION_OWNERS):
            self._add("introspection", f"calls {ast.unparse(node.func)[:60]}()")
        elif name in THREAD_CALLS:
            self._add("thread_started", f"calls {ast.unparse(node.func)[:60]}()")
        elif name == "reload":
            self._add("suspicious_call", "reloads a module")
        elif name in SUSPICIOUS_CALLS and isinstance(node.func, ast.Name):
            self._add("suspicious_call", f"calls {name}()")
        elif name == "open" and _writes_helper(node):
            self._add("helper_file_written", f"opens {_writes_helper(node)} for writing")
        self.generic_visit(node)

    def _from_module(self, function, modules):
        """Whether the called ``function`` (gc.get_objects, or a name imported from gc) comes
        from one of ``modules``."""
        if isinstance(function, ast.Attribute):
            root = self._watched_root(function.value) or ast.unparse(function.value)
        else:
            root = self.aliases.get(function.id, "")
        return root.split(".")[0] in modules

    def _watched_root(self, node):
        """'numpy.linalg' etc. if ``node`` is (an attribute of) a name bound to a watched
        package, or an object reached from one (keras.Model.predict, model.predict), else ''."""
        parts = []
        while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
            imported = _imported_module(node)
            if imported:  # __import__("numpy._core.numeric"), importlib.import_module(...)
                return ".".join([imported] + parts[::-1])
            if isinstance(node, ast.Attribute):
                parts.append(node.attr)
            node = node.value if not isinstance(node, ast.Call) else node.func
        if isinstance(node, ast.Name) and node.id in self.aliases:
            return ".".join([self.aliases[node.id]] + parts[::-1])
        # The notebook's model is a Keras object: replacing one of its methods (or its class)
        # changes what the checks see; setting its other attributes is ordinary Keras use.
        if isinstance(node, ast.Name) and node.id in MODEL_NAMES and parts \
                and parts[-1] in MODEL_METHODS:
            return ".".join([node.id] + parts[::-1])
        return ""


CHECK_NAMES = CHECK_FUNCTIONS


def _model_method(node, attribute):
    """Whether ``node.attribute`` is a method of the notebook's model (model.predict): replacing
    it changes what the checks see; setting the model's other attributes is ordinary Keras use."""
    return isinstance(node, ast.Name) and node.id in MODEL_NAMES and attribute in MODEL_METHODS


def _imported_module(node):
    """The watched module a call imports by name (``__import__('numpy.linalg')``,
    ``importlib.import_module('numpy')``), else ''."""
    if not isinstance(node, ast.Call) or not node.args or not isinstance(node.args[0], ast.Constant):
        return ""
    name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
    module = node.args[0].value
    if name in ("__import__", "import_module") and isinstance(module, str) \
            and module.split(".")[0] in WATCHED_PACKAGES:
        return module
    return ""


def _writes_helper(call):
    """The helper file name if ``open(...)`` opens one of them for writing, else ''."""
    strings = [arg.value for arg in list(call.args) + [k.value for k in call.keywords]
               if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
    names = [name for name in HELPER_FILES for text in strings if name in text]
    modes = [text for text in strings[1:] if set(text) <= set("rwabxt+")]
    return names[0] if names and any(set(mode) & set("wax+") for mode in modes) else ""


def _unique(findings):
    seen, result = set(), []
    for item in findings:
        key = (item.kind, item.message)
        if key not in seen:
            seen.add(key)
            result.append(item)
    return result
