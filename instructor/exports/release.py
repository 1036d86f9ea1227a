"""The student release: the notebook without solutions, and the folder that ships with it.

``python -m instructor release OUT_DIR`` writes a standalone folder a student (or a GitHub
Classroom template repository) can use as is: the notebook with every graded region replaced by
its placeholder and no outputs, the helper modules, the data, the images, requirements, a README,
the nbval configuration and a CI workflow. Nothing of ``instructor/`` or ``tests/`` ships.
"""
import json
import shutil
from pathlib import Path

import nbformat

from instructor.exports.classroom import RENDERED
from instructor.lab.cells import read_notebook, solution_regions
from instructor.lab.files import (NOTEBOOK_NAME, PROJECT_ROOT, SOURCE_NOTEBOOK, TEMPLATES_DIR,
                                  MissingLabFile, lab_files, lay_out)
from instructor.transforms import STUDENT_RELEASE, apply

# The lab's files the release ships, as they are (instructor.lab.files' groups).
SHIPPED = ("helpers", "data", "images", "requirements", "nbval")
# Files written from instructor/templates: {path in the release: template file name}.
TEMPLATE_FILES = {"README.md": "student_README.md",
                  "pytest.ini": "student_pytest.ini",
                  "conftest.py": "student_conftest.py",
                  ".gitignore": "student_gitignore",
                  ".github/workflows/grade.yml": "grade.yml"}


class ReleaseError(RuntimeError):
    """The release cannot be written (bad output folder, broken source notebook)."""


class ExportError(ReleaseError):
    """An export for another engine cannot be written: a bad output path, a file missing from
    the project, or a notebook the engine would misread (nbgrader's delimiters in a cell)."""


def make_student_notebook(source):
    """The student notebook built from the source notebook (which is left unchanged): the steps
    of :data:`instructor.transforms.STUDENT_RELEASE` (outputs and run metadata cleared, every
    graded region replaced by its placeholder, every cell but the solution cells locked).

    Raises:
      NotebookError: a solution cell has no placeholder or no single START/END region, or an
        exercise of the spec lacks its cells.
    """
    return apply(source, STUDENT_RELEASE)


def hint_revealed_lines(source):
    """Solution lines that the source notebook's own markdown (its hints) already shows.

    They are not a leak of the release, but an instructor should know about them.
    """
    markdown = "\n".join(cell.source for cell in source.cells if cell.cell_type == "markdown")
    return sorted({line.strip() for lines in solution_regions(source).values() for line in lines
                   if _is_code_line(line) and line.strip() in markdown})


def leaked_solution_lines(source, student):
    """Solution lines the student notebook shows, beyond what the source's hints already show.

    Searches the notebook's JSON text and every string in it (JSON escapes quotes, so a line
    like ``Dense(25, activation="relu")`` is only found in the decoded strings), metadata
    included. A line that the source's markdown shows (a hint) may appear in markdown cells only.
    """
    hinted = set(hint_revealed_lines(source))
    everywhere = notebook_text(student)
    outside_markdown = notebook_text(student, skip_markdown=True)
    leaks = set()
    for lines in solution_regions(source).values():
        for line in filter(_is_code_line, lines):
            line = line.strip()
            if line in outside_markdown or (line in everywhere and line not in hinted):
                leaks.add(line)
    return sorted(leaks)


def notebook_text(notebook, skip_markdown=False):
    """All the text of a notebook: its JSON and, decoded, every key and string value in it."""
    raw = json.loads(nbformat.writes(notebook))
    if skip_markdown:
        raw["cells"] = [cell for cell in raw["cells"] if cell["cell_type"] != "markdown"]
    strings = []

    def collect(value):
        if isinstance(value, str):
            strings.append(value)
        elif isinstance(value, list):
            for item in value:
                collect(item)
        elif isinstance(value, dict):
            for key, item in value.items():
                strings.append(key)
                collect(item)

    collect(raw)
    return json.dumps(raw, ensure_ascii=False) + "\n" + "\n".join(strings)


def _is_code_line(line):
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def check_output_folder(out_dir, force):
    """Raise ReleaseError unless ``out_dir`` can receive the release.

    A missing folder is created later; an existing empty one is fine; a non-empty one only with
    ``force``. The project itself (or a folder containing it) is always refused.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ReleaseError(f"{out_dir}: exists and is not a folder")
    resolved = out_dir.resolve()
    if resolved == PROJECT_ROOT or PROJECT_ROOT.is_relative_to(resolved):
        raise ReleaseError(f"{out_dir}: is (or contains) the instructor's project; "
                           f"write the release somewhere else")
    if resolved.is_relative_to(PROJECT_ROOT / "instructor") or resolved.is_relative_to(PROJECT_ROOT / "tests"):
        raise ReleaseError(f"{out_dir}: is inside the project's instructor/ or tests/ folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not force:
        raise ReleaseError(f"{out_dir}: folder is not empty; choose a new folder, or pass "
                           f"--force to overwrite the release's files in it")


def write_release(out_dir, force=False, source_path=SOURCE_NOTEBOOK):
    """Write the student folder; returns the list of paths written (relative to ``out_dir``).

    Raises:
      ReleaseError: the folder is refused, or a file to ship is missing from the project.
      NotebookError: the source notebook is unreadable or its graded cells are malformed.
    """
    out_dir = Path(out_dir)
    check_output_folder(out_dir, force)
    missing = [f"instructor/templates/{name}" for name in TEMPLATE_FILES.values()
               if not (TEMPLATES_DIR / name).is_file()]
    try:
        lab_files(*SHIPPED)
    except MissingLabFile as error:
        missing.append(str(error))
    if missing:
        raise ReleaseError(f"cannot release: missing from the project: {', '.join(missing)}")

    source = read_notebook(source_path)
    student = make_student_notebook(source)
    leaks = leaked_solution_lines(source, student)
    if leaks:  # make_student_notebook should make this impossible; never ship if it happens
        raise ReleaseError(f"refusing to release: solution lines found outside the hints: {leaks}")

    out_dir.mkdir(parents=True, exist_ok=True)
    nbformat.write(student, out_dir / NOTEBOOK_NAME)
    written = [NOTEBOOK_NAME] + lay_out(out_dir, *SHIPPED)
    for name, template in TEMPLATE_FILES.items():
        (out_dir / name).parent.mkdir(parents=True, exist_ok=True)
        if name in RENDERED:  # the CI workflow and the conftest carry facts of the lab spec
            (out_dir / name).write_text(RENDERED[name](), encoding="utf-8")
        else:
            shutil.copyfile(TEMPLATES_DIR / template, out_dir / name)
        written.append(name)
    return written
