"""Reading notebooks, and finding the graded cells and their code regions.

Graded code cells carry ``metadata.lab = {"exercise": <id>, "role": "solution" | "check"}``; a
solution cell of the source notebook also has ``"placeholder": <one line of code>``. A solution
cell holds exactly one region: the lines strictly between ``### START CODE HERE ###`` and
``### END CODE HERE ###``.
"""
import json
from pathlib import Path

import nbformat

START_MARKER = "### START CODE HERE ###"
END_MARKER = "### END CODE HERE ###"


class NotebookError(ValueError):
    """A file is missing, is not a Jupyter notebook, or lacks what the lab tooling needs."""


def read_notebook(path):
    """Read a Jupyter notebook (nbformat 4), with messages that say what is wrong with the file.

    Raises:
      NotebookError: the path does not exist, is a folder, is not JSON, or is JSON but not a
        notebook.
    """
    path = Path(path)
    if not path.exists():
        raise NotebookError(f"{path}: no such file")
    if path.is_dir():
        raise NotebookError(f"{path}: is a folder, expected a .ipynb notebook file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise NotebookError(f"{path}: not a notebook (not UTF-8 text)") from None
    return notebook_from_text(text, str(path))


def notebook_from_text(text, name="notebook"):
    """Parse notebook JSON text; see :func:`read_notebook` for the errors."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise NotebookError(f"{name}: invalid JSON at line {error.lineno}, column {error.colno}: "
                            f"{error.msg}") from None
    if not isinstance(raw, dict) or "cells" not in raw or "nbformat" not in raw:
        raise NotebookError(f"{name}: JSON but not a Jupyter notebook (no 'cells' or 'nbformat')")
    try:
        notebook = nbformat.reads(text, as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # nbformat raises several types for damaged notebooks
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        if len(first_line) > 500:  # nbformat quotes the offending value, whatever its size
            first_line = first_line[:500] + "..."
        raise NotebookError(f"{name}: not a valid notebook ({type(error).__name__}: "
                            f"{first_line})") from None
    return notebook


def lab_metadata(cell):
    """The cell's ``metadata.lab`` dictionary, or {} for ungraded cells."""
    info = cell.get("metadata", {}).get("lab", {})
    return info if isinstance(info, dict) else {}


def graded_cells(notebook, role):
    """{exercise id: (cell index, cell)} for the code cells with ``metadata.lab.role == role``.

    When a (tampered) notebook has two cells for the same exercise and role, the first one wins.
    """
    found = {}
    for index, cell in enumerate(notebook.cells):
        info = lab_metadata(cell)
        if cell.cell_type == "code" and info.get("role") == role and "exercise" in info:
            found.setdefault(info["exercise"], (index, cell))
    return found


def split_region(source, where="cell"):
    """Split a solution cell's source into (head, region, tail) lists of lines (no newlines).

    ``head`` ends with the START line, ``tail`` begins with the END line, and ``region`` is what
    lies strictly between them.

    Raises:
      NotebookError: the markers are missing, repeated, or in the wrong order.
    """
    lines = source.split("\n")
    starts = [i for i, line in enumerate(lines) if line.strip() == START_MARKER]
    ends = [i for i, line in enumerate(lines) if line.strip() == END_MARKER]
    if len(starts) != 1 or len(ends) != 1 or starts[0] > ends[0]:
        raise NotebookError(f"{where}: expected one '{START_MARKER}' line followed by one "
                            f"'{END_MARKER}' line; found {len(starts)} and {len(ends)}")
    return lines[:starts[0] + 1], lines[starts[0] + 1:ends[0]], lines[ends[0]:]


def replace_region(source, region_lines, where="cell"):
    """The source with the lines between the markers replaced by ``region_lines``."""
    head, _, tail = split_region(source, where)
    return "\n".join(head + list(region_lines) + tail)


def solution_regions(notebook):
    """{exercise id: list of the region's lines} for every solution cell."""
    return {exercise: split_region(cell.source, f"solution cell {index} ({exercise})")[1]
            for exercise, (index, cell) in graded_cells(notebook, "solution").items()}


def first_line(cell, width=60):
    """A short label for a cell in reports: its first non-blank source line."""
    for line in cell.get("source", "").splitlines():
        if line.strip():
            return line.strip()[:width]
    return ""
