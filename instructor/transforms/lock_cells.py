"""Locked cells: which cells of the student notebook a student may not edit or delete.

JupyterLab and Notebook 7 honour two cell metadata keys, ``"editable": false`` (the editor is
read-only and typing does nothing) and ``"deletable": false`` (the delete command refuses), the
same keys nbgrader writes for its "read-only" cells. A locked cell still runs.

The rule, read from the lab spec and the cells' metadata, never from cell numbers:

- a **solution cell** of an exercise in the spec (``metadata.lab.role == "solution"``) stays
  editable and deletable: the student writes there;
- a cell whose ``metadata.lab.locked`` is ``false`` stays editable too: the opt-out for a cell
  students are meant to change freely (none in the lab today);
- **every other cell is locked**: the check cells (``role == "check"``), the setup cell with the
  imports, the demo and figure cells, and all markdown. Locking the demos costs students nothing:
  they still run, and a student who wants to try other values adds a new cell.

The grader never trusts these keys (a student can remove them in any text editor); they spare
honest students an accidental deletion, and the grader's tamper checks still compare the check
cells' sources with the spec.
"""
from instructor.lab import spec
from instructor.lab.cells import NotebookError, graded_cells, lab_metadata

LOCKED = {"editable": False, "deletable": False}


def stays_editable(cell):
    """Whether the rule above leaves ``cell`` editable (a solution cell, or an explicit opt-out)."""
    info = lab_metadata(cell)
    if info.get("locked") is False:
        return True
    return (cell.get("cell_type") == "code" and info.get("role") == "solution"
            and info.get("exercise") in spec.BY_ID)


def lock_cells(notebook):
    """Lock every cell the rule locks, in place; returns the indices of the locked cells.

    Cells that stay editable lose any ``editable``/``deletable`` keys a copy of the source may
    carry, so a solution cell is never shipped read-only by mistake.

    Raises:
      NotebookError: an exercise of the spec has no check cell or no solution cell in the
        notebook (its metadata ``lab`` was lost), so the rule cannot say which cells to lock.
    """
    require_graded_cells(notebook, "lock cells")
    locked = []
    for index, cell in enumerate(notebook.cells):
        if stays_editable(cell):
            for key in LOCKED:
                cell.metadata.pop(key, None)
        else:
            cell.metadata.update(LOCKED)
            locked.append(index)
    return locked


def require_graded_cells(notebook, action):
    """Raise NotebookError unless every exercise of the spec has a solution and a check cell.

    ``action`` says what cannot be done without them, e.g. "lock cells".
    """
    for role in ("solution", "check"):
        found = graded_cells(notebook, role)
        missing = [item.id for item in spec.EXERCISES if item.id not in found]
        if missing:
            raise NotebookError(
                f"cannot {action}: no {role} cell for {', '.join(missing)} (expected a code cell "
                f"with metadata lab = {{\"exercise\": <id>, \"role\": \"{role}\"}}); restore the "
                f"cell's metadata in the source notebook")


def is_locked(cell):
    """Whether JupyterLab would refuse both editing and deleting ``cell``."""
    metadata = cell.get("metadata", {})
    return metadata.get("editable") is False and metadata.get("deletable") is False
