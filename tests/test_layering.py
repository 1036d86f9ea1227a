"""The instructor package's shape, as instructor/__init__.py states it: one subpackage per
stage, each importing only the stages before it, no import cycle between modules, and the
modules that run outside the package (embedded in nbgrader's hidden tests, copied into a course
folder) importing nothing of it at their top level.

Read from the source with ``ast``: nothing is imported or run.
"""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "instructor"
# The stages in order (instructor/__init__.py); a module may import its own stage and those
# before it. The engine knows nothing of the lab: it imports no other stage at all.
STAGES = ["lab", "engine", "transforms", "findings", "grading", "reports", "exports"]
ALLOWED = {stage: set(STAGES[:position + 1]) for position, stage in enumerate(STAGES)}
ALLOWED["engine"] = {"engine"}
TOP_LEVEL = {"__init__", "__main__"}
# Run where the instructor package cannot be imported: their top level imports none of it.
STANDALONE = {"grading.hidden_checks", "grading.retrain", "exports.nbgrader_hidden",
              "exports.nbgrader_feedback"}


def _modules():
    """{dotted name below instructor: path}."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(path, top_level_only=False):
    """The instructor modules ``path`` imports (dotted, below instructor), with line numbers."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else ast.walk(tree)
    found = []
    for node in nodes:
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}:{node.lineno}: a relative import; the package uses "
                                 f"absolute ones (instructor.stage.module)")
        else:
            continue
        for name in names:
            if name == "instructor" or name.startswith("instructor."):
                inner = name.removeprefix("instructor").lstrip(".")
                if inner in MODULES or not inner:
                    found.append((inner, node.lineno))
    return found


def _stage(module):
    return module.split(".")[0]


def test_only_the_entry_points_sit_at_the_top():
    loose = [name for name in MODULES if "." not in name and name not in TOP_LEVEL
             and name not in STAGES]
    assert not loose, f"modules outside any stage: {loose}; put each in its stage's subpackage"
    assert set(STAGES) <= set(MODULES)


@pytest.mark.parametrize("module", sorted(name for name in MODULES if name not in TOP_LEVEL))
def test_each_module_imports_only_earlier_stages(module):
    stage = _stage(module)
    wrong = [(target, line) for target, line in _imports(MODULES[module])
             if target and _stage(target) not in ALLOWED[stage]]
    assert not wrong, (f"instructor.{module} ({stage}) imports {wrong}; {stage} may import only "
                       f"{sorted(ALLOWED[stage])}")


@pytest.mark.parametrize("module", sorted(STANDALONE))
def test_standalone_modules_import_nothing_of_the_package_at_the_top(module):
    assert _imports(MODULES[module], top_level_only=True) == []


def test_no_import_cycle_between_modules():
    graph = {name: {target for target, _ in _imports(path) if target and target != name}
             for name, path in MODULES.items() if name not in TOP_LEVEL}
    # A package's __init__ importing its own modules is not a cycle through them.
    state, cycles = {}, []

    def visit(node, trail):
        state[node] = "open"
        for target in sorted(graph.get(node, ())):
            if target in TOP_LEVEL or target == _stage(node) and node != target:
                continue
            if state.get(target) == "open":
                cycles.append(trail[trail.index(target):] + [target])
            elif target not in state:
                visit(target, trail + [target])
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles, f"import cycles: {cycles}"


def test_the_layering_test_sees_a_violation(tmp_path):
    """The checks above can fail: an engine module importing the lab is caught."""
    offender = tmp_path / "offender.py"
    offender.write_text("from instructor.lab.files import PROJECT_ROOT\n")
    [(target, line)] = _imports(offender)
    assert target == "lab.files" and _stage(target) not in ALLOWED["engine"]


def test_each_class_is_defined_once():
    """One class per name in the package (two ExportError classes with different bases were
    once raised by two exports)."""
    defined = {}
    for name, path in MODULES.items():
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ClassDef):
                defined.setdefault(node.name, []).append(name)
    assert {cls: where for cls, where in defined.items() if len(where) > 1} == {}
