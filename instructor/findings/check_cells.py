"""The instructor's check cells, put back into the notebook the grader runs.

As nbgrader's "overwrite cells" does, the grader never trusts the submission's check cells: it
finds where each of the source notebook's check cells sits in the submission and runs the
instructor's source there, whatever the submission's cell says. Cells are matched by content and
position, never by ``metadata.lab``, which the student controls: the source and the submitted
cells are aligned as two sequences (difflib), each cell keyed by its text (a solution cell by
its text outside the student's region), so added scratch cells, edited answers and moved
metadata do not shift the match.
"""
import copy
import difflib
from dataclasses import dataclass, field

import nbformat

from instructor.findings.registry import finding
from instructor.lab.cells import NotebookError, first_line, graded_cells, lab_metadata, split_region
from instructor.lab.spec import BY_ID
from instructor.transforms import apply, clear_outputs


@dataclass
class Restored:
    """The notebook to run, and how its cells relate to the submission's.

    Attributes:
      notebook: a copy of the submission, outputs cleared, with the instructor's check cells.
      origin: for each cell of ``notebook``, the index of the submission cell it comes from, or
        None for a check cell the grader put back because the submission had deleted it.
      findings: the check cells deleted or edited, and check metadata found on other cells.
    """
    notebook: object
    origin: list
    findings: list = field(default_factory=list)


def _key(cell):
    """What a cell is matched on: its kind and text (a solution cell's text outside its region)."""
    source = cell.get("source", "")
    if cell.cell_type != "code":
        return ("text", source.strip())
    try:
        head, _, tail = split_region(source)
    except NotebookError:
        return ("code", source.strip())
    return ("solution", "\n".join(head + tail).strip())


def locate(source, submission):
    """{exercise id: (source index, submission index or None)} for the source's check cells."""
    source_keys = [_key(cell) for cell in source.cells]
    submitted_keys = [_key(cell) for cell in submission.cells]
    matcher = difflib.SequenceMatcher(None, source_keys, submitted_keys, autojunk=False)
    blocks = matcher.get_opcodes()
    found = {}
    for exercise, (index, cell) in graded_cells(source, "check").items():
        expected = cell.source.strip()
        for tag, i1, i2, j1, j2 in blocks:
            if not i1 <= index < i2:
                continue
            if tag == "equal":
                found[exercise] = (index, j1 + index - i1)
            else:  # edited or deleted: the most similar code cell in the same place, if any
                candidates = [j for j in range(j1, j2) if submission.cells[j].cell_type == "code"]
                found[exercise] = (index, max(candidates, default=None, key=lambda j: (
                    difflib.SequenceMatcher(None, expected, submission.cells[j].source).ratio(),
                    -abs(j - (j1 + index - i1)))))
            break
    return found


def _insertion_point(source, submission, source_index):
    """Where a deleted check cell goes: after the submission cell matching the source cell just
    before it (or at the start)."""
    source_keys = [_key(cell) for cell in source.cells]
    submitted_keys = [_key(cell) for cell in submission.cells]
    matcher = difflib.SequenceMatcher(None, source_keys, submitted_keys, autojunk=False)
    point = 0
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal" and i1 < source_index:
            point = j1 + min(source_index, i2) - i1
    return point


def _moved(source, submission, located):
    """{exercise: submission index} for check cells not found in place but present, word for
    word, elsewhere in the submission (a student moved the cell)."""
    taken = {index for _, index in located.values() if index is not None}
    moved = {}
    for exercise, (index, cell) in graded_cells(source, "check").items():
        if located.get(exercise, (None, None))[1] is not None:
            continue
        expected = cell.source.strip()
        for j, candidate in enumerate(submission.cells):
            if (j not in taken and candidate.cell_type == "code"
                    and candidate.source.strip() == expected):
                moved[exercise] = j
                taken.add(j)
                break
    return moved


def restore(source, submission):
    """The submission with the instructor's check cells (see :class:`Restored`).

    A check cell found in place runs there, with the instructor's source whatever the cell
    says. A deleted check cell, or one moved elsewhere (its call found word for word in another
    cell), is put back where the source notebook has it, after the cell it follows there: the
    instructor's check always runs after its exercise's cell, as in a Run All of the lab.
    """
    fresh = apply(submission, [clear_outputs])
    origin = list(range(len(fresh.cells)))
    findings = []
    located = locate(source, submission)
    moved = _moved(source, submission, located)
    source_checks = graded_cells(source, "check")
    insertions = []
    for exercise, (source_index, index) in located.items():
        instructor_cell = source_checks[exercise][1]
        expected = instructor_cell.source.strip()
        optional = BY_ID[exercise].optional if exercise in BY_ID else False
        if index is None:
            if exercise in moved:
                findings.append(finding(
                    "check_cell_moved", f"the check cell of {exercise} (`{expected}`) was moved "
                    f"to cell {moved[exercise]}; the grader ran the instructor's where the lab "
                    f"has it", moved[exercise], exercise))
            else:
                findings.append(finding(
                    "optional_check_changed" if optional else "check_cell_deleted",
                    f"the check cell of {exercise} (`{expected}`) was deleted; the grader ran "
                    f"the instructor's", None, exercise))
            insertions.append((_insertion_point(source, submission, source_index), exercise))
            continue
        submitted = submission.cells[index].source
        if submitted.strip() != expected:
            kept = any(line.strip() == expected for line in submitted.split("\n"))
            kind = ("check_cell_kept_and_extended" if kept else
                    "optional_check_changed" if optional else "check_cell_edited")
            findings.append(finding(
                kind, f"the check cell of {exercise} was edited: expected `{expected}`, found "
                      f"`{first_line(submission.cells[index])}`; the grader ran the instructor's",
                index, exercise))
        fresh.cells[index].source = instructor_cell.source
        fresh.cells[index].metadata["lab"] = copy.deepcopy(dict(instructor_cell.metadata["lab"]))
    where = {index: exercise for exercise, (_, index) in located.items() if index is not None}
    for index, cell in enumerate(submission.cells):
        info = lab_metadata(cell)
        if info.get("role") == "check" and where.get(index) != info.get("exercise"):
            if index not in moved.values():
                findings.append(finding(
                    "check_metadata_moved", f"cell {index} (`{first_line(cell)}`) carries the "
                    f"check metadata of {info.get('exercise')} but is not its check cell (a copied "
                    f"cell keeps its metadata)", index, info.get("exercise")))
            fresh.cells[index].metadata.pop("lab", None)
    for point, exercise in sorted(insertions, reverse=True):
        cell = nbformat.v4.new_code_cell(source_checks[exercise][1].source)
        cell.metadata["lab"] = copy.deepcopy(dict(source_checks[exercise][1].metadata["lab"]))
        fresh.cells.insert(point, cell)
        origin.insert(point, None)
    return Restored(fresh, origin, findings)
