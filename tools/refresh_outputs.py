"""Run the lab notebook top to bottom in a fresh kernel and store its outputs in place.

Run after editing ``lab2_multiclass.ipynb`` (the stored outputs are what nbval compares):

    python tools/refresh_outputs.py [NOTEBOOK]

The notebook runs through the project's one kernel runner (``instructor.engine.kernel``, without
the grader's sandbox: this is the instructor's own notebook). Its kernel runs with
``capture_fd_output=False``, as under pytest, so any C-level log lines (TensorFlow writes some to
the process's stderr) are not stored: nbval's kernel would not see them and would report them as
missing. Per-cell timing metadata is dropped, so that re-running a notebook whose results did not
change leaves the file unchanged. Fails if any cell raised an error or wrote to stderr.
"""
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_PATH = ROOT / "lab2_multiclass.ipynb"
sys.path.insert(0, str(ROOT))  # the instructor package, when run as a script from anywhere

from instructor.engine.kernel import execute_notebook  # noqa: E402


def refresh(path):
    notebook = nbformat.read(path, as_version=4)
    execute_notebook(notebook, Path(path).resolve().parent, cell_timeout=600)
    problems = []
    for index, cell in enumerate(notebook.cells):
        cell.metadata.pop("execution", None)
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                problems.append(f"cell {index}: {output.ename}: {output.evalue}")
            elif output.get("name") == "stderr":
                problems.append(f"cell {index} wrote to stderr: {output.text.strip()[:300]}")
    nbformat.write(notebook, path)
    return problems


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    path = Path(argv[0]) if argv else NOTEBOOK_PATH
    problems = refresh(path)
    if problems:
        sys.exit(f"{path}: outputs stored, but fix these first:\n" + "\n".join(problems))
    print(f"{path}: outputs stored ({path.stat().st_size / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
