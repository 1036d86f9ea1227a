"""Stored outputs of a submission compared with the grader's fresh run of it.

The comparison is nbval's: its masks (``nbval_sanitize.cfg``, read with nbval's own
``get_sanitize_patterns``), its merging of streams (``coalesce_streams``, which also applies
backspaces and carriage returns), and its rules: stdout, stderr, text/plain and errors are
compared, images and widget views are not, and a cell the student never ran (no execution count)
is skipped. An output nbval would accept in CI is never reported as edited here, and the reverse.

Every finding here is a warning: marks come from the grader's own run, never from stored outputs,
and honest work differs from a fresh run too (a scratch cell printing random numbers, a training
cell run twice, a check run before the last edit). Text with a line longer than
:data:`MAX_COMPARED_LINE` is not compared at all (the masks' cost grows with a line's length).
"""
import copy
import re

import nbformat
from nbval.plugin import coalesce_streams, get_sanitize_patterns

from instructor.findings.registry import finding
from instructor.lab.files import SANITIZE_FILE

_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
# Floats within 20% of each other are reported as platform noise (another CPU or BLAS changes
# the last digits of a loss); any other difference, integers included, as an edit.
NUMBER_TOLERANCE = 0.2
# The lab's longest stored line has 113 characters. Longer lines are not compared at all, so the
# masks' work per output stays bounded whatever a submission stores (every mask is linear in the
# line's length since the site-packages one starts only where a token starts; a line of 100,000
# characters took that mask 233 s before).
MAX_COMPARED_LINE = 10_000
EDITED, NOISE = "edited", "noise"


def load_patterns(path=SANITIZE_FILE):
    """[(regex, replacement)] from a sanitize file, in file order, parsed by nbval."""
    return get_sanitize_patterns(path.read_text(encoding="utf-8"))


def sanitize(text, patterns):
    """``text`` with every mask applied in order, as nbval applies them."""
    for regex, replacement in patterns:
        text = re.sub(regex, replacement, text)
    return text


def comparable_outputs(outputs, patterns):
    """The text a code cell shows, in the form nbval compares.

    Returns {"stdout": str, "stderr": str, "text/plain": [str, ...], "error": [str, ...]}, or
    None when a line is longer than :data:`MAX_COMPARED_LINE`.
    """
    merged = coalesce_streams([nbformat.from_dict(copy.deepcopy(dict(o))) for o in outputs])
    streams = {"stdout": "", "stderr": ""}
    plain, errors = [], []
    for output in merged:
        kind = output.get("output_type")
        if kind == "stream":
            streams[output.get("name", "stdout")] = _text(output.get("text", ""))
        elif kind in ("display_data", "execute_result") and "text/plain" in output.get("data", {}):
            plain.append(_text(output["data"]["text/plain"]))
        elif kind == "error":
            errors.append(f"{output.get('ename', '')}: {output.get('evalue', '')}")
    texts = list(streams.values()) + plain + errors
    if any(len(line) > MAX_COMPARED_LINE for text in texts for line in text.split("\n")):
        return None
    result = {name: sanitize(text, patterns) for name, text in streams.items()}
    result["text/plain"] = [sanitize(text, patterns) for text in plain]
    result["error"] = [sanitize(text, patterns) for text in errors]
    return result


def _text(value):
    return "".join(value) if isinstance(value, list) else str(value)


def compared_cells(submission, cell_results, origin=None):
    """[(index in the fresh run, index in the submission)] of the cells whose stored outputs are
    compared: code cells that ran normally in the grader's run, whose output was not cut off,
    and that the student ran (or that carry outputs). ``origin[i]`` is the submission cell that
    fresh cell i comes from (None for a cell the grader added)."""
    ran = {r.index for r in cell_results if r.status in ("ok", "error") and not r.dropped_output}
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
    """Stored outputs that differ from the grader's fresh run, after nbval's masks (warnings);
    returns (findings, the number of cells compared)."""
    edited, noisy, too_long = [], [], []
    pairs = compared_cells(submission, cell_results, origin)
    for fresh_index, index in pairs:
        stored, new = submission.cells[index], fresh.cells[fresh_index]
        if stored.get("execution_count") is None:
            edited.append((index, "outputs stored in a cell that was never run"))
            continue
        old_text = comparable_outputs(stored.get("outputs", []), patterns)
        new_text = comparable_outputs(new.get("outputs", []), patterns)
        if old_text is None or new_text is None:
            too_long.append(index)
            continue
        for key in ("stdout", "text/plain", "error", "stderr"):
            if old_text[key] == new_text[key]:
                continue
            verdict = _difference(old_text[key], new_text[key])
            target = edited if verdict == EDITED and key != "stderr" else noisy
            target.append((index, f"{key}: stored {_snippet(old_text[key])} vs fresh "
                                  f"{_snippet(new_text[key])}"))
    findings = []
    order_note = _execution_order_note(submission)
    for kind, found, what in (("outputs_edited", edited, "stored outputs differ from a fresh run"),
                              ("outputs_numbers_differ", noisy, "numbers in the stored outputs "
                               "differ slightly from a fresh run")):
        if found:
            cells = sorted({index for index, _ in found})
            findings.append(finding(kind, f"{what} in cells {cells}{order_note} (no mark depends "
                                          f"on them): " + "; ".join(f"cell {i}: {detail}"
                                                                    for i, detail in found[:4]),
                                    cells[0]))
    if too_long:
        findings.append(finding("outputs_not_compared", f"cells {too_long} hold a line longer "
                                f"than {MAX_COMPARED_LINE:,} characters: not compared", too_long[0]))
    return findings, len(pairs) - len(too_long)


def _difference(old, new):
    """EDITED if the texts differ beyond numbers close to each other, else NOISE."""
    if isinstance(old, list) or isinstance(new, list):
        if len(old) != len(new):
            return EDITED
        return EDITED if any(_difference(a, b) == EDITED for a, b in zip(old, new) if a != b) else NOISE
    if _NUMBER.sub("#", old) != _NUMBER.sub("#", new):
        return EDITED
    for a, b in zip(_NUMBER.findall(old), _NUMBER.findall(new)):
        if a == b:
            continue
        if _is_integer(a) and _is_integer(b):  # shapes, counts, labels: no platform changes them
            return EDITED
        x, y = float(a), float(b)
        if abs(x - y) > NUMBER_TOLERANCE * max(abs(x), abs(y)) + 1e-3:
            return EDITED
    return NOISE


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
