"""Write the notebook's "Expected output" lines from its own stored outputs, so they never drift.

A markdown cell holds a line ending in a marker such as ``<!-- expected: final_loss -->`` (an
HTML comment: invisible once rendered, and kept by the student release, which keeps markdown).
That line is rewritten as ``**Expected output:** `epoch 40: loss 0.0279` <!-- ... -->``, the
values taken from the stored stdout of the next code cell: the lines of it that match the key's
pattern in ``EXPECTED``.

    python tools/expected_values.py            # rewrite the lines (after tools/refresh_outputs.py)
    python tools/expected_values.py --check    # exit 1, naming them, if any line is out of date
"""
import argparse
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_PATH = ROOT / "lab2_multiclass.ipynb"

# key -> the stdout lines to quote, as a regular expression that must match a whole line.
EXPECTED = {
    "final_loss": r"epoch 40: loss \d+\.\d+",
    "training_errors": r"\d+ errors out of \d+ images",
    "ladder": r"(nearest class mean|softmax regression|network 400-25-15-10) +\d+(\.\d+)?%",
}
MARKER = re.compile(r"<!-- expected: (\w+) -->")


class ExpectedValuesError(ValueError):
    """The notebook's markers or stored outputs do not allow writing the expected values."""


def stdout_lines(cell):
    """The stored stdout of a code cell, one string per line."""
    text = "".join(output.get("text", "") for output in cell.get("outputs", [])
                   if output.get("output_type") == "stream" and output.get("name") == "stdout")
    return text.splitlines()


def expected_line(key, code_cell, cell_index):
    """The markdown line (marker included) quoting what ``code_cell`` printed for ``key``."""
    if key not in EXPECTED:
        raise ExpectedValuesError(f"markdown marker 'expected: {key}' names no known value; "
                                  f"expected one of {sorted(EXPECTED)}. Fix the marker's name.")
    pattern = re.compile(EXPECTED[key])
    found = [re.sub(r"\s+", " ", line.strip()) for line in stdout_lines(code_cell)
             if pattern.fullmatch(line.strip())]
    if not found:
        raise ExpectedValuesError(
            f"'expected: {key}': code cell {cell_index} has no stored stdout line matching "
            f"{EXPECTED[key]!r}; found {stdout_lines(code_cell)[:5]}. Store the outputs first: "
            "python tools/refresh_outputs.py")
    quoted = ", ".join(f"`{line}`" for line in found)
    return f"**Expected output:** {quoted} <!-- expected: {key} -->"


def updated_sources(notebook):
    """{markdown cell index: its source with every expected line rewritten}, for every cell that
    has a marker. Raises ExpectedValuesError for a marker with no code cell after it."""
    updates = {}
    cells = notebook.cells
    for index, cell in enumerate(cells):
        if cell.cell_type != "markdown" or not MARKER.search(cell.source):
            continue
        following = next((i for i in range(index + 1, len(cells))
                          if cells[i].cell_type == "code"), None)
        if following is None:
            raise ExpectedValuesError(f"markdown cell {index} has an 'expected' marker but no code "
                                      "cell follows it; the values come from the next code cell.")
        lines = []
        for line in cell.source.split("\n"):
            match = MARKER.search(line)
            lines.append(expected_line(match.group(1), cells[following], following) if match else line)
        updates[index] = "\n".join(lines)
    return updates


def out_of_date(notebook):
    """The markdown cell indices whose expected lines differ from the stored outputs."""
    return [index for index, source in updated_sources(notebook).items()
            if notebook.cells[index].source != source]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", nargs="?", type=Path, default=NOTEBOOK_PATH)
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 if any expected line is out of date")
    args = parser.parse_args(argv)
    notebook = nbformat.read(args.notebook, as_version=4)
    try:
        updates = updated_sources(notebook)
    except ExpectedValuesError as error:
        sys.exit(f"{args.notebook}: {error}")
    stale = [index for index, source in updates.items() if notebook.cells[index].source != source]
    if args.check:
        if stale:
            sys.exit(f"{args.notebook}: expected values out of date in markdown cells {stale}; "
                     "run: python tools/expected_values.py")
        print(f"{args.notebook}: {len(updates)} expected-value cells up to date")
        return
    for index in stale:
        notebook.cells[index].source = updates[index]
    if stale:
        nbformat.write(notebook, args.notebook)
    print(f"{args.notebook}: {len(stale)} of {len(updates)} expected-value cells rewritten")


if __name__ == "__main__":
    main()
