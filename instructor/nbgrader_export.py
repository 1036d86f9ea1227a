"""Export the lab as an nbgrader course: ``python -m instructor export-nbgrader OUT``.

Writes ``OUT/nbgrader_config.py`` and ``OUT/source/<assignment>/`` (the notebook in nbgrader's
format, the helper modules, the data and the images), ready for ``nbgrader generate_assignment``
and ``nbgrader autograde`` run in ``OUT``. The notebook, built from the source notebook and the
lab spec (:mod:`instructor.spec`):

- each solution cell: its ``### START CODE HERE ###`` region wrapped in nbgrader's
  ``### BEGIN SOLUTION`` / ``### END SOLUTION`` markers (nbgrader puts its code stub there), an
  nbgrader "autograded answer" cell;
- each graded check cell: an nbgrader "autograder tests" cell worth the exercise's points,
  locked, running the public check and then, between ``### BEGIN HIDDEN TESTS`` / ``### END
  HIDDEN TESTS`` (removed from the students' copy, restored to autograde), the hidden checks of
  :mod:`instructor.hidden_checks` on the student's objects through
  :mod:`instructor.nbgrader_hidden` (Exercise 2: on a copy of the architecture retrained by
  :mod:`instructor.retrain`, as the grader does), all embedded as source;
- the optional challenge's check cell: locked, but no grade cell, so it never costs points;
- every cell the release locks (:mod:`instructor.lock_cells`): an nbgrader read-only cell.

Metadata follows nbgrader's cell schema version 3 (``grade``, ``grade_id``, ``locked``,
``points``, ``schema_version``, ``solution``, ``task``). Outputs are cleared: nbgrader clears
them anyway, and the export stays small and the same from run to run.
"""
import copy
import importlib
import inspect
import json
import re
import shutil
from pathlib import Path

import nbformat

from instructor import (ASSET_DIRS, DATA_FILES, HELPER_FILES, NOTEBOOK_NAME, PROJECT_ROOT,
                        SOURCE_NOTEBOOK, hidden_checks, spec)
from instructor.cells import graded_cells, read_notebook, split_region
from instructor.grade import GradeOptions
from instructor.lock_cells import require_graded_cells, stays_editable
from instructor.release import (CELL_RUN_METADATA, RUN_METADATA, ReleaseError,
                                check_output_folder)

ASSIGNMENT = Path(NOTEBOOK_NAME).stem
SCHEMA_VERSION = 3
BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
# nbgrader finds its delimiters anywhere in a line: none may appear in embedded code or the text.
DELIMITERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS",
              "BEGIN MARK SCHEME", "END MARK SCHEME")
# nbgrader has one code stub per language, and ours must fit two places: a function body
# (Exercise 1, the challenge), where it must raise NotImplementedError so the public checks say
# "not implemented yet" / "not attempted", and a list of layers (Exercise 2), where a `raise`
# statement is a syntax error. A call that raises is valid in both.
CODE_STUB = ("# YOUR CODE HERE: replace this line and the next one\n"
             "exec(\"raise NotImplementedError('write your code here')\")")
# The modules whose source the hidden-test regions embed, in the order they are loaded: the
# variable each becomes in the kernel, and the module.
EMBEDDED_MODULES = {"_lab_hidden_checks": "instructor.hidden_checks",
                    "_lab_retrain": "instructor.retrain",
                    "_lab_nbgrader_hidden": "instructor.nbgrader_hidden"}
# The function through which hidden_checks reaches the public checks' shared definitions.
PUBLIC_TESTS_HOOK = "_public_tests"
# How the hidden region calls the bridge for each kind of exercise in the spec: the function,
# and the embedded modules it takes after the hidden checks and the student's object.
HIDDEN_CALLS = {"softmax": ("softmax_failures", ()), "model": ("model_failures", ("_lab_retrain",))}


class ExportError(ReleaseError):
    """The course folder cannot be written, or the export would break nbgrader's parsing."""


def nbgrader_metadata(grade_id, grade=False, solution=False, locked=False, points=None):
    """One cell's ``metadata.nbgrader`` in schema version 3."""
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked,
            "schema_version": SCHEMA_VERSION, "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    return meta


def check_grade_id(exercise):
    """The grade_id of an exercise's test cell (its solution cell's is the exercise id)."""
    return f"{exercise.id}_check"


def embedded_source(variable, module_name):
    """Lines of Python that define ``variable`` as a module built from ``module_name``'s source.

    The source is written as one string literal per line, so the instructor can read it in the
    notebook, and so no line of it can be mistaken for an nbgrader delimiter (checked)."""
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ExportError(f"cannot embed {module_name} in the hidden tests: {error}") from None
    source = inspect.getsource(module)
    found = [d for d in DELIMITERS if d in source]
    if found:
        raise ExportError(f"cannot embed {module.__name__}: its source contains nbgrader's "
                          f"delimiter(s) {found}, which nbgrader would cut at; reword them")
    name = module.__name__.rsplit(".", 1)[-1]
    lines = [f"{variable} = _lab_types.ModuleType({name!r})",
             f"exec(compile(("]
    lines += [f"    {line!r}" for line in source.splitlines(keepends=True)]
    lines.append(f"), {name + '.py'!r}, 'exec'), {variable}.__dict__)")
    return lines


def hidden_region(exercise):
    """The lines of an exercise's hidden tests, markers included."""
    if exercise.kind not in HIDDEN_CALLS:
        raise ExportError(f"{exercise.id}: no hidden test for kind {exercise.kind!r} (expected one "
                          f"of {', '.join(HIDDEN_CALLS)}); add it to HIDDEN_CALLS")
    lines = [BEGIN_HIDDEN,
             "# The instructor's hidden checks (instructor/hidden_checks.py, applied to your objects",
             "# by instructor/nbgrader_hidden.py), embedded by `python -m instructor export-nbgrader`.",
             "import types as _lab_types"]
    for variable, module in EMBEDDED_MODULES.items():
        lines += embedded_source(variable, module)
    if hasattr(hidden_checks, PUBLIC_TESTS_HOOK):
        # The grader hands hidden_checks the instructor's public_tests from the project; in the
        # kernel that is the lab's public_tests.py, which nbgrader restores from the source folder.
        lines.append(f"_lab_hidden_checks.{PUBLIC_TESTS_HOOK} = lambda: __import__('public_tests')")
    lines.append("_lab_retrain._autils = lambda: __import__('autils')")
    function, modules = HIDDEN_CALLS[exercise.kind]
    arguments = ", ".join(("_lab_hidden_checks", exercise.records[0]) + modules)
    lines += [f"_lab_nbgrader_hidden.assert_passes({exercise.title!r}, "
              f"_lab_nbgrader_hidden.{function}({arguments}))",
              END_HIDDEN]
    return lines


def wrap_solution(source, where):
    """The solution cell's source with its START/END region between nbgrader's markers."""
    head, region, tail = split_region(source, where)
    indent = re.match(r"\s*", head[-1]).group(0)
    return "\n".join(head + [indent + BEGIN_SOLUTION] + region + [indent + END_SOLUTION] + tail)


def make_nbgrader_notebook(source):
    """The notebook in nbgrader's format, built from the source notebook (left unchanged).

    Raises:
      NotebookError: an exercise of the spec lacks its solution or check cell, or a solution
        cell lacks its single START/END region.
      ExportError: a cell's text contains one of nbgrader's delimiters.
    """
    require_graded_cells(source, "export to nbgrader")
    notebook = copy.deepcopy(source)
    for key in RUN_METADATA:
        notebook.metadata.pop(key, None)
    solutions = {index: item_id for item_id, (index, _) in graded_cells(notebook, "solution").items()}
    checks = {index: item_id for item_id, (index, _) in graded_cells(notebook, "check").items()}
    for index, cell in enumerate(notebook.cells):
        found = [d for d in DELIMITERS if d in cell.source]
        if found:
            raise ExportError(f"cell {index} contains nbgrader's delimiter(s) {found}: nbgrader "
                              f"would cut the cell there; reword it in the source notebook")
        for key in CELL_RUN_METADATA:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        if index in solutions:
            exercise = spec.exercise(solutions[index])
            cell.source = wrap_solution(cell.source, f"solution cell {index} ({exercise.id})")
            cell.metadata["nbgrader"] = nbgrader_metadata(exercise.id, solution=True)
        elif index in checks:
            exercise = spec.exercise(checks[index])
            if exercise.optional:  # read-only, never graded: it cannot cost points
                cell.metadata["nbgrader"] = nbgrader_metadata(check_grade_id(exercise), locked=True)
            else:
                cell.source = "\n".join([cell.source.rstrip("\n")] + hidden_region(exercise))
                cell.metadata["nbgrader"] = nbgrader_metadata(
                    check_grade_id(exercise), grade=True, locked=True, points=exercise.points)
        elif not stays_editable(cell):
            cell.metadata["nbgrader"] = nbgrader_metadata(
                f"locked_{cell.get('id') or index}", locked=True)
    return notebook


def config_text():
    """The text of ``nbgrader_config.py``."""
    timeout = int(GradeOptions().cell_timeout)
    return f'''"""nbgrader settings for the {ASSIGNMENT} lab (written by python -m instructor export-nbgrader).

Run nbgrader in this folder: nbgrader generate_assignment {ASSIGNMENT}, then, with the
submissions in submitted/<student>/{ASSIGNMENT}/, nbgrader autograde {ASSIGNMENT}.
"""
c = get_config()  # noqa: F821  (nbgrader defines get_config when it reads this file)

# One stub must fit a function body (it raises NotImplementedError, so the checks say "not
# implemented yet") and Exercise 2's list of layers (where a raise statement cannot stand).
c.ClearSolutions.code_stub = {json.dumps({"python": CODE_STUB})}

# Importing TensorFlow and training take longer than nbgrader's default 30 s per cell on a busy
# machine: allow what the lab's own grader allows (python -m instructor grade --cell-timeout).
c.Execute.timeout = {timeout}
'''


def write_course(out_dir, force=False, source_path=SOURCE_NOTEBOOK):
    """Write the nbgrader course folder; returns the paths written, relative to ``out_dir``.

    Raises:
      ReleaseError: ``out_dir`` is refused (not empty without ``force``, or the project itself),
        or a file to ship is missing from the project.
      NotebookError, ExportError: see :func:`make_nbgrader_notebook`.
    """
    out_dir = Path(out_dir)
    check_output_folder(out_dir, force)
    missing = [name for name in HELPER_FILES + DATA_FILES if not (PROJECT_ROOT / name).is_file()]
    missing += [name for name in ASSET_DIRS if not (PROJECT_ROOT / name).is_dir()]
    if missing:
        raise ExportError(f"cannot export: missing from the project: {', '.join(missing)}")
    notebook = make_nbgrader_notebook(read_notebook(source_path))

    assignment = Path("source") / ASSIGNMENT
    (out_dir / assignment).mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, out_dir / assignment / NOTEBOOK_NAME)
    written = [str(assignment / NOTEBOOK_NAME)]
    for name in HELPER_FILES + DATA_FILES:
        target = out_dir / assignment / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PROJECT_ROOT / name, target)
        written.append(str(assignment / name))
    for name in ASSET_DIRS:
        target = out_dir / assignment / name
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(PROJECT_ROOT / name, target,
                        ignore=shutil.ignore_patterns("__pycache__", ".*"))
        written += [str(p.relative_to(out_dir)) for p in sorted(target.rglob("*")) if p.is_file()]
    (out_dir / "nbgrader_config.py").write_text(config_text())
    written.append("nbgrader_config.py")
    return written
