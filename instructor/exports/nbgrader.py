"""Export the lab as an nbgrader course: ``python -m instructor export-nbgrader OUT``.

Writes ``OUT/nbgrader_config.py``, ``OUT/lab_nbgrader_feedback.py`` (the feedback's
preprocessor, :mod:`instructor.exports.nbgrader_feedback`) and ``OUT/source/<assignment>/`` (the
notebook in nbgrader's format, the helper modules, the data and the images), ready for
``nbgrader generate_assignment``, ``autograde`` and ``generate_feedback`` run in ``OUT``. The
notebook is the source notebook with the steps :func:`instructor.transforms.clear_outputs`,
:func:`~instructor.transforms.clear_run_metadata` and :func:`nbgrader_cells`:

- each solution cell: its ``### START CODE HERE ###`` region wrapped in nbgrader's
  ``### BEGIN SOLUTION`` / ``### END SOLUTION`` markers (nbgrader puts its code stub there), an
  nbgrader "autograded answer" cell;
- each graded check cell: an nbgrader "autograder tests" cell worth the exercise's points,
  locked, running the public check and then, between ``### BEGIN HIDDEN TESTS`` / ``### END
  HIDDEN TESTS`` (removed from the students' copy, restored to autograde), the hidden checks of
  :mod:`instructor.grading.hidden_checks` on the student's objects through
  :mod:`instructor.exports.nbgrader_hidden` (Exercise 2: on a copy of the architecture retrained
  by :mod:`instructor.grading.retrain`, as the grader does), all embedded as source, with a secret
  drawn for this export: the hidden inputs differ per student and per export;
- an optional challenge's check cell: locked, but no grade cell, so it never costs points;
- every cell the release locks (:mod:`instructor.transforms.lock_cells`): an nbgrader read-only
  cell.

Metadata follows nbgrader's cell schema version 3 (``grade``, ``grade_id``, ``locked``,
``points``, ``schema_version``, ``solution``, ``task``).

nbgrader runs the student's code in the same kernel as the hidden tests, so a student's code can
still change what those tests see: keep ``python -m instructor grade`` for marks you must defend.
"""
import importlib
import inspect
import json
import re
import secrets
import shutil
from pathlib import Path

import nbformat

from instructor.exports import nbgrader_feedback, nbgrader_hidden
from instructor.exports.release import ExportError, ReleaseError, check_output_folder
from instructor.grading.options import GradeOptions
from instructor.lab import spec
from instructor.lab.cells import graded_cells, read_notebook, split_region
from instructor.lab.files import NOTEBOOK_NAME, SOURCE_NOTEBOOK, MissingLabFile, lay_out
from instructor.transforms import apply, clear_outputs, clear_run_metadata
from instructor.transforms.lock_cells import require_graded_cells, stays_editable

ASSIGNMENT = Path(NOTEBOOK_NAME).stem
SCHEMA_VERSION = 3
FEEDBACK_MODULE = "lab_nbgrader_feedback"
BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
# nbgrader finds its delimiters anywhere in a line: none may appear in embedded code or the text.
DELIMITERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS",
              "BEGIN MARK SCHEME", "END MARK SCHEME")
# nbgrader has one code stub per language, and ours must fit two places: a function body
# (Exercise 1, the challenges), where it must raise NotImplementedError so the public checks say
# "not implemented yet" / "not attempted", and a list of layers (Exercise 2), where a `raise`
# statement is a syntax error. A call that raises is valid in both.
CODE_STUB = ("# YOUR CODE HERE: replace this line and the next one\n"
             "exec(\"raise NotImplementedError('write your code here')\")")
# The modules whose source the hidden-test regions embed, in the order they are loaded: the
# variable each becomes in the kernel, and the module.
EMBEDDED_MODULES = {"_lab_hidden_checks": "instructor.grading.hidden_checks",
                    "_lab_retrain": "instructor.grading.retrain",
                    "_lab_nbgrader_hidden": "instructor.exports.nbgrader_hidden"}


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
             "exec(compile(("]
    lines += [f"    {line!r}" for line in source.splitlines(keepends=True)]
    lines.append(f"), {name + '.py'!r}, 'exec'), {variable}.__dict__)")
    return lines


def hidden_region(exercise, secret):
    """The lines of an exercise's hidden tests, markers included; ``secret`` (hex) is the
    export's."""
    if exercise.kind == "model":
        call = f"_lab_nbgrader_hidden.model_failures(_lab_hidden_checks, {exercise.answer}, _lab_retrain)"
    elif exercise.kind in ("softmax", "cross_entropy"):
        call = (f"_lab_nbgrader_hidden.function_failures(_lab_hidden_checks, {exercise.kind!r}, "
                f"{exercise.answer}, {secret!r}, {exercise.id!r})")
    else:
        raise ExportError(f"{exercise.id}: no hidden test for kind {exercise.kind!r}")
    lines = [BEGIN_HIDDEN,
             f"print({nbgrader_hidden.MARKER!r}, flush=True)  # the feedback shows nothing after this",
             "# The instructor's hidden checks (instructor/grading/hidden_checks.py, applied to your",
             "# objects by instructor/exports/nbgrader_hidden.py), embedded by the nbgrader export.",
             "import types as _lab_types"]
    for variable, module in EMBEDDED_MODULES.items():
        lines += embedded_source(variable, module)
    # In the kernel, the public checks and the training are the lab's own files, which nbgrader
    # restores from the source folder.
    lines += ["_lab_hidden_checks._public_tests = lambda: __import__('public_tests')",
              "_lab_retrain._autils = lambda: __import__('autils')",
              f"_lab_nbgrader_hidden.assert_passes({exercise.title!r}, {call})",
              END_HIDDEN]
    return lines


def wrap_solution(source, where):
    """The solution cell's source with its START/END region between nbgrader's markers."""
    head, region, tail = split_region(source, where)
    indent = re.match(r"\s*", head[-1]).group(0)
    return "\n".join(head + [indent + BEGIN_SOLUTION] + region + [indent + END_SOLUTION] + tail)


def nbgrader_cells(secret):
    """The transform step that gives each cell its nbgrader role (see the module), the hidden
    tests drawing their inputs from ``secret`` (hex)."""

    def step(notebook):
        require_graded_cells(notebook, "export to nbgrader")
        solutions = {index: item_id for item_id, (index, _) in graded_cells(notebook, "solution").items()}
        checks = {index: item_id for item_id, (index, _) in graded_cells(notebook, "check").items()}
        for index, cell in enumerate(notebook.cells):
            found = [d for d in DELIMITERS if d in cell.source]
            if found:
                raise ExportError(f"cell {index} contains nbgrader's delimiter(s) {found}: nbgrader "
                                  f"would cut the cell there; reword it in the source notebook")
            if index in solutions:
                exercise = spec.exercise(solutions[index])
                cell.source = wrap_solution(cell.source, f"solution cell {index} ({exercise.id})")
                cell.metadata["nbgrader"] = nbgrader_metadata(exercise.id, solution=True)
            elif index in checks:
                exercise = spec.exercise(checks[index])
                if exercise.optional:  # read-only, never graded: it cannot cost points
                    cell.metadata["nbgrader"] = nbgrader_metadata(check_grade_id(exercise), locked=True)
                else:
                    cell.source = "\n".join([cell.source.rstrip("\n")] + hidden_region(exercise, secret))
                    cell.metadata["nbgrader"] = nbgrader_metadata(
                        check_grade_id(exercise), grade=True, locked=True, points=exercise.points)
            elif not stays_editable(cell):
                cell.metadata["nbgrader"] = nbgrader_metadata(
                    f"locked_{cell.get('id') or index}", locked=True)
        return notebook

    return step


def make_nbgrader_notebook(source, secret=None):
    """The notebook in nbgrader's format, built from the source notebook (left unchanged).

    Raises:
      NotebookError: an exercise of the spec lacks its solution or check cell, or a solution
        cell lacks its single START/END region.
      ExportError: a cell's text contains one of nbgrader's delimiters.
    """
    secret = secret or secrets.token_hex(32)
    return apply(source, [clear_outputs, clear_run_metadata, nbgrader_cells(secret)])


def config_text():
    """The text of ``nbgrader_config.py``."""
    timeout = int(GradeOptions().cell_timeout)
    return f'''"""nbgrader settings for the {ASSIGNMENT} lab (written by python -m instructor export-nbgrader).

Run nbgrader in this folder: nbgrader generate_assignment {ASSIGNMENT}; with the submissions in
submitted/<student>/{ASSIGNMENT}/, nbgrader autograde {ASSIGNMENT}; then nbgrader
generate_feedback {ASSIGNMENT}.

autograde warns "Attribute 'checksum' for cell ..._check has changed" for every graded check cell
of every notebook (nbgrader issue #1961): the students' copy of a check cell lacks its hidden
tests, so its checksum differs from the source's, which autograde then restores. That warning is
expected; a student's edit to a check cell is put right by the same restore.
"""
c = get_config()  # noqa: F821  (nbgrader defines get_config when it reads this file)

# One stub must fit a function body (it raises NotImplementedError, so the checks say "not
# implemented yet") and Exercise 2's list of layers (where a raise statement cannot stand).
c.ClearSolutions.code_stub = {json.dumps({"python": CODE_STUB})}

# Importing TensorFlow and training take longer than nbgrader's default 30 s per cell on a busy
# machine: allow what the lab's own grader allows (python -m instructor grade --cell-timeout).
c.Execute.timeout = {timeout}

# Feedback never shows the hidden tests, their outputs, or what the student's code printed
# after they ran ({FEEDBACK_MODULE}.py, beside this file; nbgrader imports it from here).
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "{FEEDBACK_MODULE}.StudentSafeFeedback",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
c.GenerateFeedback.post_convert_hook = "{FEEDBACK_MODULE}.prune_feedback"
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
    notebook = make_nbgrader_notebook(read_notebook(source_path))
    assignment = Path("source") / ASSIGNMENT
    (out_dir / assignment).mkdir(parents=True, exist_ok=True)
    try:
        shipped = lay_out(out_dir / assignment, "helpers", "data", "images")
    except MissingLabFile as error:
        raise ExportError(f"cannot export: {error}") from None
    nbformat.write(notebook, out_dir / assignment / NOTEBOOK_NAME)
    (out_dir / "nbgrader_config.py").write_text(config_text())
    shutil.copyfile(Path(nbgrader_feedback.__file__), out_dir / f"{FEEDBACK_MODULE}.py")
    return ([str(assignment / NOTEBOOK_NAME)] + [str(assignment / name) for name in shipped]
            + ["nbgrader_config.py", f"{FEEDBACK_MODULE}.py"])
