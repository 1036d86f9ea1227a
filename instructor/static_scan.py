"""Static scan of a submitted notebook's code for tampering (no kernel needed).

Parses every code cell (IPython magics and shell lines replaced by ``pass``) and reports: names
of the public checks defined, assigned, imported under another name or deleted; attributes of
the lab's libraries assigned or deleted (monkeypatching); helper files overwritten by
``%%writefile`` or ``open(..., "w")``; and, as warnings, constructs an honest notebook has no use
for (``exec``, ``setattr``, ``import builtins`` ...). Findings are dicts, see
:func:`instructor.tamper.finding`.
"""
import ast
import re

from instructor import CHECK_FUNCTIONS, HELPER_FILES
from instructor.tamper import TAMPERING, WARNING, finding

# Imported packages whose attributes a notebook must never assign.
WATCHED_PACKAGES = {"numpy", "tensorflow", "keras", "public_tests", "builtins", "math", "sys",
                    "autils", "lab_utils_softmax", "scipy", "importlib"}
CHECK_NAMES = tuple(CHECK_FUNCTIONS.values())
SUSPICIOUS_CALLS = {"exec", "eval", "compile", "__import__", "globals", "setattr", "delattr"}


def python_source(cell_source):
    """A cell's source as Python: IPython magics and shell lines become `pass` (same lines)."""
    lines = cell_source.split("\n")
    if lines and lines[0].lstrip().startswith("%%"):
        return "\n".join("pass" if i == 0 else "# " + line for i, line in enumerate(lines))
    return "\n".join(re.sub(r"^(\s*)[%!].*$", r"\1pass", line) for line in lines)


def static_findings(submission):
    """Redefined checks, assignments to library attributes and other patching in the code."""
    findings = []
    module_aliases = _module_aliases(submission)
    for index, cell in enumerate(submission.cells):
        if cell.cell_type != "code":
            continue
        findings += _magic_findings(cell.source, index)
        try:
            tree = ast.parse(python_source(cell.source))
        except SyntaxError:
            continue  # the cell fails when run; nothing to scan
        scanner = _Scanner(index, module_aliases)
        scanner.visit(tree)
        findings += scanner.findings
    return _unique(findings)


def _module_aliases(submission):
    """{name in the notebook: watched package it is bound to} from all import statements."""
    aliases = {}
    for cell in submission.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(python_source(cell.source))
        except SyntaxError:
            continue
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
            findings.append(finding("helper_file_written", TAMPERING,
                                    f"cell {index} overwrites {touched[0]} (`{stripped[:60]}`)", index))
        elif touched:
            findings.append(finding("helper_file_shell", WARNING,
                                    f"cell {index} runs a command on {touched[0]} (`{stripped[:60]}`)", index))
    return findings


class _Scanner(ast.NodeVisitor):
    """Collects findings in one cell's syntax tree."""

    def __init__(self, index, module_aliases):
        self.index, self.aliases, self.findings = index, module_aliases, []

    def _add(self, kind, severity, message):
        self.findings.append(finding(kind, severity, f"cell {self.index}: {message}", self.index,
                                     _exercise_of_check(message)))

    # Binding a check function's name -------------------------------------------------------
    def visit_FunctionDef(self, node):
        if node.name in CHECK_NAMES:
            self._add("check_redefined", TAMPERING, f"defines a function named {node.name}")
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        if node.name in CHECK_NAMES:
            self._add("check_redefined", TAMPERING, f"defines a class named {node.name}")
        self.generic_visit(node)

    def visit_Name(self, node):
        if isinstance(node.ctx, (ast.Store, ast.Del)) and node.id in CHECK_NAMES:
            verb = "deletes" if isinstance(node.ctx, ast.Del) else "assigns"
            self._add("check_redefined", TAMPERING, f"{verb} the name {node.id}")
        if node.id == "__builtins__":
            self._add("builtins_access", WARNING, "uses __builtins__")

    def visit_Import(self, node):
        for alias in node.names:
            if alias.asname in CHECK_NAMES:
                self._add("check_redefined", TAMPERING,
                          f"imports {alias.name} under the name {alias.asname}")
            if alias.name.split(".")[0] == "builtins":
                self._add("builtins_import", WARNING, "imports builtins")

    def visit_ImportFrom(self, node):
        for alias in node.names:
            bound = alias.asname or alias.name
            honest = node.module == "public_tests" and alias.name == bound
            if bound in CHECK_NAMES and not honest:
                self._add("check_redefined", TAMPERING,
                          f"binds {bound} to {node.module}.{alias.name}")
            if alias.name == "*" and node.module != "public_tests":
                self._add("star_import", WARNING, f"`from {node.module} import *` may replace the checks")
            if node.module and node.module.split(".")[0] == "builtins":
                self._add("builtins_import", WARNING, "imports from builtins")

    # Changing a library ---------------------------------------------------------------------
    def visit_Attribute(self, node):
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            target = self._watched_root(node.value)
            if target:
                verb = "deletes" if isinstance(node.ctx, ast.Del) else "assigns"
                kind = "check_redefined" if node.attr in CHECK_NAMES else "monkeypatch"
                self._add(kind, TAMPERING, f"{verb} {target}.{node.attr}")
        self.generic_visit(node)

    def visit_Subscript(self, node):
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            target = self._watched_root(node.value)
            if target:
                self._add("monkeypatch", TAMPERING, f"changes an item of {target}")
            elif isinstance(node.value, ast.Call) and getattr(node.value.func, "id", "") in ("globals", "vars", "locals"):
                key = node.slice.value if isinstance(node.slice, ast.Constant) else None
                if key in CHECK_NAMES:
                    self._add("check_redefined", TAMPERING, f"assigns {key} through globals()")
                else:
                    self._add("namespace_write", WARNING, "assigns through globals()/vars()")
        self.generic_visit(node)

    def visit_Call(self, node):
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name in ("setattr", "delattr") and node.args:
            target = self._watched_root(node.args[0])
            if target:
                self._add("monkeypatch", TAMPERING, f"calls {name} on {target}")
            else:
                self._add("suspicious_call", WARNING, f"calls {name}()")
        elif name == "reload":
            self._add("suspicious_call", WARNING, "reloads a module")
        elif name in SUSPICIOUS_CALLS and isinstance(node.func, ast.Name):
            self._add("suspicious_call", WARNING, f"calls {name}()")
        elif name == "open" and _writes_helper(node):
            self._add("helper_file_written", TAMPERING, f"opens {_writes_helper(node)} for writing")
        self.generic_visit(node)

    def _watched_root(self, node):
        """'numpy.linalg' etc. if ``node`` is (an attribute of) a name bound to a watched
        package, else ''."""
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name) and node.id in self.aliases:
            return ".".join([self.aliases[node.id]] + parts[::-1])
        return ""


def _writes_helper(call):
    """The helper file name if ``open(...)`` opens one of them for writing, else ''."""
    strings = [arg.value for arg in list(call.args) + [k.value for k in call.keywords]
               if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
    names = [name for name in HELPER_FILES for text in strings if name in text]
    modes = [text for text in strings[1:] if set(text) <= set("rwabxt+")]
    return names[0] if names and any(set(mode) & set("wax+") for mode in modes) else ""


def _exercise_of_check(message):
    for exercise, check in CHECK_FUNCTIONS.items():
        if re.search(rf"\b{check}\b", message):
            return exercise
    return None


def _unique(findings):
    seen, result = set(), []
    for item in findings:
        key = (item["kind"], item["message"])
        if key not in seen:
            seen.add(key)
            result.append(item)
    return result
