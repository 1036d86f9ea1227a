"""Notebook transforms as small named steps, run as ordered lists (as nbgrader's preprocessors
are): the student release, the exports and the grader each name the steps they need.

- :func:`clear_outputs`: no outputs or execution counts (nbconvert's own ClearOutputPreprocessor);
- :func:`clear_run_metadata`: no widget state, timings or scroll state a run or an editor left;
- :func:`replace_solutions`: each exercise's code region becomes its placeholder line;
- :func:`lock_cells`: every cell but the solution cells read-only and undeletable
  (:mod:`~instructor.transforms.lock_cells` holds the rule).

:data:`STUDENT_RELEASE` is the list the release and the Gradescope export apply; the nbgrader
export and the grader add steps of their own. :func:`apply` runs a list on a copy.

May import: :mod:`instructor.lab`.
"""
import copy

from nbconvert.preprocessors import ClearOutputPreprocessor

from instructor.lab.cells import NotebookError, graded_cells, lab_metadata, replace_region
from instructor.transforms.lock_cells import lock_cells as _lock

# Notebook-level metadata that a run leaves behind: widget states hold values from the run.
RUN_METADATA = ("widgets",)
# Cell metadata a run or an editor leaves behind (nbclient timings, scroll state).
CELL_RUN_METADATA = ("execution", "collapsed", "scrolled", "ExecuteTime")


def clear_outputs(notebook):
    """Every code cell without outputs or execution count (nbconvert's ClearOutputPreprocessor,
    the one nbgrader's ClearOutput extends)."""
    ClearOutputPreprocessor(remove_metadata_fields=set(CELL_RUN_METADATA)).preprocess(notebook, {})
    return notebook


def clear_run_metadata(notebook):
    """No metadata that a run or an editor left (widget state, timings, scroll state)."""
    for key in RUN_METADATA:
        notebook.metadata.pop(key, None)
    for cell in notebook.cells:
        for key in CELL_RUN_METADATA:
            cell.metadata.pop(key, None)
    return notebook


def replace_solutions(notebook):
    """Every graded region replaced by its placeholder line; ``placeholder`` dropped from the
    cell metadata (``exercise`` and ``role`` stay, so the grader and the checks find the cells).

    Raises:
      NotebookError: a solution cell has no placeholder or no single START/END region.
    """
    for exercise, (index, cell) in graded_cells(notebook, "solution").items():
        info = lab_metadata(cell)
        placeholder = info.get("placeholder")
        if not isinstance(placeholder, str) or not placeholder.strip():
            raise NotebookError(f"solution cell {index} ({exercise}) has no metadata.lab.placeholder")
        cell.source = replace_region(cell.source, [placeholder], f"solution cell {index} ({exercise})")
        info.pop("placeholder")
    return notebook


def lock_cells(notebook):
    """Every cell but the solution cells locked (see :mod:`instructor.transforms.lock_cells`)."""
    _lock(notebook)
    return notebook


STUDENT_RELEASE = (clear_outputs, clear_run_metadata, replace_solutions, lock_cells)


def apply(notebook, steps):
    """A copy of ``notebook`` with ``steps`` applied in order (the original is left unchanged)."""
    result = copy.deepcopy(notebook)
    for step in steps:
        result = step(result)
    return result
