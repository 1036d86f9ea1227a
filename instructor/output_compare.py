"""Stored outputs of a submission compared with the grader's fresh run of it.

The comparison uses nbval's masks (``nbval_sanitize.cfg``) and nbval's rules: stdout, stderr,
text/plain and errors are compared, images and widget views are not, and a cell the student
never ran (no execution count) is skipped. Findings are dicts, see
:func:`instructor.tamper.finding`.

Every finding here is a warning: marks come from the grader's own run, never from stored
outputs, and honest work differs from a fresh run too (a scratch cell printing random numbers or
the working directory, a training cell run twice, a check run before the last edit).
"""
import re

from instructor.sanitize import comparable_outputs
from instructor.tamper import TAMPERING, WARNING, finding

_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
# Floats within 20% of each other are reported as platform noise (another CPU or BLAS changes
# the last digits of a loss); any other difference, integers included, as an edit.
NUMBER_TOLERANCE = 0.2


def compared_cells(submission, cell_results, origin=None):
    """[(index in the fresh run, index in the submission)] of the cells whose stored outputs are
    compared: code cells that ran normally in the grader's run, whose output was not cut off
    (``dropped_output``), and that the student ran (or that carry outputs). ``origin[i]`` is the
    submission cell that fresh cell i comes from (None for a cell the grader added); by default
    the two notebooks have the same cells."""
    ran = {r.index for r in cell_results
           if r.status in ("ok", "error") and not r.dropped_output}  # cut off: not comparable
    pairs = []
    for fresh_index in sorted(ran):
        index = origin[fresh_index] if origin is not None else fresh_index
        if index is None:
            continue
        cell = submission.cells[index]
        if cell.cell_type == "code" and (cell.get("execution_count") is not None
                                         or cell.get("outputs")):
            pairs.append((fresh_index, index))
    return pairs


def output_findings(submission, fresh, cell_results, patterns, origin=None):
    """Stored outputs that differ from the grader's fresh run, after nbval's masks (warnings).

    Only cells that ran normally in both are compared; cells never run by the student (no
    execution count) are skipped, as nbval skips them, unless they carry outputs anyway.
    """
    edited, noisy = [], []
    for fresh_index, index in compared_cells(submission, cell_results, origin):
        stored, new = submission.cells[index], fresh.cells[fresh_index]
        old_text = comparable_outputs(stored.get("outputs", []), patterns)
        new_text = comparable_outputs(new.get("outputs", []), patterns)
        if stored.get("execution_count") is None:
            edited.append((index, "outputs stored in a cell that was never run"))
            continue
        for key in ("stdout", "text/plain", "error", "stderr"):
            if old_text[key] == new_text[key]:
                continue
            verdict = _difference(old_text[key], new_text[key])
            if key == "stderr" and verdict == TAMPERING:
                verdict = WARNING  # warnings and logs are not a student's claim
            target = edited if verdict == TAMPERING else noisy
            target.append((index, f"{key}: stored {_snippet(old_text[key])} vs fresh "
                                  f"{_snippet(new_text[key])}"))
    findings = []
    order_note = _execution_order_note(submission)
    if edited:
        cells = sorted({index for index, _ in edited})
        findings.append(finding(
            "outputs_edited", WARNING,
            f"stored outputs differ from a fresh run in cells {cells}{order_note} (no mark "
            f"depends on them): "
            + "; ".join(f"cell {i}: {what}" for i, what in edited[:4]), cells[0]))
    if noisy:
        cells = sorted({index for index, _ in noisy})
        findings.append(finding(
            "outputs_numbers_differ", WARNING,
            f"numbers in the stored outputs differ slightly from a fresh run in cells {cells} "
            f"(another platform?){order_note}: "
            + "; ".join(f"cell {i}: {what}" for i, what in noisy[:4]), cells[0]))
    return findings


def _difference(old, new):
    """TAMPERING if the texts differ beyond numbers close to each other, else WARNING."""
    if isinstance(old, list) or isinstance(new, list):
        if len(old) != len(new):
            return TAMPERING
        return max((_difference(a, b) for a, b in zip(old, new) if a != b),
                   key=lambda v: v == TAMPERING, default=WARNING)
    if _NUMBER.sub("#", old) != _NUMBER.sub("#", new):
        return TAMPERING
    for a, b in zip(_NUMBER.findall(old), _NUMBER.findall(new)):
        if a == b:
            continue
        if _is_integer(a) and _is_integer(b):  # shapes, counts, labels: no platform changes them
            return TAMPERING
        x, y = float(a), float(b)
        if abs(x - y) > NUMBER_TOLERANCE * max(abs(x), abs(y)) + 1e-3:
            return TAMPERING
    return WARNING


def _is_integer(token):
    return token.lstrip("+-").isdigit()


def _snippet(value, width=70):
    text = " | ".join(value) if isinstance(value, list) else value
    text = text.strip().replace("\n", "\\n")
    return repr(text[:width] + ("..." if len(text) > width else ""))


def _execution_order_note(submission):
    counts = [c.get("execution_count") for c in submission.cells if c.cell_type == "code"]
    ran = [c for c in counts if c is not None]
    if ran and ran != list(range(1, len(ran) + 1)):
        return " (its execution counts show it was not run top to bottom in one go)"
    return ""
