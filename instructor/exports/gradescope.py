"""``python -m instructor export-gradescope OUT.zip``: the lab's Gradescope autograder.

The zip holds, at its root (Gradescope unpacks it into /autograder/source): ``setup.sh`` and
``run_autograder`` (from instructor/templates/gradescope), ``requirements.txt``, this
``instructor/`` package, the instructor's helper files, data and images, ``nbval_sanitize.cfg``,
and the lab notebook in its student form (the grader reads the check cells from it; no line of a
reference solution is in the zip). Nothing else of the project ships.
"""
import stat
import zipfile
from pathlib import Path

import nbformat

from instructor.exports.release import ExportError, make_student_notebook
from instructor.lab.cells import read_notebook
from instructor.lab.files import (NOTEBOOK_NAME, PACKAGE_DIR, PROJECT_ROOT, SOURCE_NOTEBOOK,
                                  TEMPLATES_DIR, MissingLabFile, lab_files)

SCRIPTS = ("setup.sh", "run_autograder")  # at the zip's root, executable
SHIPPED = ("helpers", "data", "images", "requirements", "nbval")  # instructor.lab.files' groups


def autograder_files():
    """{name in the zip: bytes} for everything the autograder needs."""
    missing = [f"instructor/templates/gradescope/{name}" for name in SCRIPTS
               if not (TEMPLATES_DIR / "gradescope" / name).is_file()]
    try:
        shipped = lab_files(*SHIPPED)
    except MissingLabFile as error:
        missing.append(str(error))
    if missing:
        raise ExportError(f"cannot export: missing from the project: {', '.join(missing)}")
    files = {name: (TEMPLATES_DIR / "gradescope" / name).read_bytes() for name in SCRIPTS}
    files.update({name: path.read_bytes() for name, path in shipped.items()})
    for path in sorted(PACKAGE_DIR.rglob("*")):
        if path.is_file() and not _skipped(path):
            files[path.relative_to(PROJECT_ROOT).as_posix()] = path.read_bytes()
    student = make_student_notebook(read_notebook(SOURCE_NOTEBOOK))
    files[NOTEBOOK_NAME] = nbformat.writes(student).encode("utf-8")
    return files


def _skipped(path):
    return "__pycache__" in path.parts or path.suffix == ".pyc" or path.name.startswith(".")


def write_autograder_zip(out_zip, force=False):
    """Write the autograder zip; returns the names it holds (sorted).

    Raises:
      ExportError: ``out_zip`` does not end in .zip, exists (without ``force``) or is a folder,
        or a file is missing from the project.
    """
    out_zip = Path(out_zip)
    if out_zip.suffix != ".zip":
        raise ExportError(f"{out_zip}: expected a file name ending in .zip (Gradescope takes a "
                          f"zip), e.g. lab2-autograder.zip")
    if out_zip.is_dir():
        raise ExportError(f"{out_zip}: is a folder; give the path of the .zip file to write")
    if out_zip.exists() and not force:
        raise ExportError(f"{out_zip}: exists; choose another name, or pass --force to replace it")
    files = autograder_files()
    out_zip.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out_zip, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))  # reproducible bytes
            mode = 0o755 if name in SCRIPTS else 0o644
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name])
    return sorted(files)


def unpack(out_zip, source_dir):
    """Unpack an autograder zip as Gradescope does (into ``source_dir``), keeping the scripts
    executable; for trying it locally and in tests. Returns ``source_dir``."""
    source_dir = Path(source_dir)
    with zipfile.ZipFile(out_zip) as archive:
        for info in archive.infolist():
            target = source_dir / info.filename
            if not target.resolve().is_relative_to(source_dir.resolve()):
                raise ExportError(f"{out_zip}: {info.filename} would unpack outside {source_dir}")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(info))
            target.chmod((info.external_attr >> 16) & 0o777 or 0o644)
    return source_dir
