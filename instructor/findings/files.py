"""The lab's helper and data files around a submission: the ones it brought, and the grader's
copies in its work folder after the run.

The grader never runs a submission's own helper files: its work folder holds the instructor's
(:func:`instructor.lab.files.lay_out`). A submitted copy that differs is reported, and so is a
grader's copy the notebook changed while it ran.
"""
import functools
import hashlib
import os
import stat

from instructor.findings.registry import finding
from instructor.lab.files import DATA_FILES, HELPER_FILES, PROJECT_ROOT

CHUNK = 1 << 20  # bytes read at a time: a file is hashed in constant memory


def file_hash(path):
    """SHA-256 of a file's bytes, read a chunk at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def hashes(folder, names=HELPER_FILES + DATA_FILES):
    """{relative path: sha256} of the lab files in ``folder`` (missing ones left out)."""
    return {name: file_hash(folder / name) for name in names if (folder / name).is_file()}


@functools.lru_cache(maxsize=1)
def _instructors_files():
    """{relative path: (size, sha256)} of the instructor's lab files, once per process."""
    return {name: (os.stat(PROJECT_ROOT / name).st_size, digest)
            for name, digest in hashes(PROJECT_ROOT).items()}


def _difference(path, size, digest):
    """How the submitted ``path`` differs from the instructor's file of ``size`` bytes and
    ``digest``: "" when it is the same or absent. A link is named, never followed (it could
    point at a classmate's file or at one that never ends); only a file of the same size is
    read."""
    try:
        status = os.lstat(path)
    except OSError:
        return ""
    if stat.S_ISLNK(status.st_mode):
        return f"is a link to {os.readlink(path)}"
    if not stat.S_ISREG(status.st_mode):
        return ""
    if status.st_size != size or file_hash(path) != digest:
        return "differs from"
    return ""


def submitted_file_findings(folders):
    """Helper and data files in the submission's folders (its own folder and the one holding
    its notebook) that differ from the instructor's, or are links."""
    findings, seen = [], set()
    for folder in folders:
        if folder is None:
            continue
        for name, (size, digest) in _instructors_files().items():
            where = folder / name
            difference = _difference(where, size, digest)
            if not difference or os.path.abspath(where) in seen:
                continue
            seen.add(os.path.abspath(where))
            if difference != "differs from":
                difference += ", instead of"
            if name == "public_tests.py":
                findings.append(finding("public_tests_modified", f"{where} {difference} the "
                                        f"instructor's public_tests.py (the grader used its own)"))
            else:
                findings.append(finding("submitted_file_differs", f"{where} {difference} the "
                                        f"instructor's {name} (the grader used its own)"))
    return findings


def workdir_findings(before, workdir):
    """The grader's copies of the lab's files that the notebook changed or removed while it
    ran (``before``: :func:`hashes` of the work folder before the first cell)."""
    findings = []
    for name, digest in before.items():
        path = workdir / name
        # Not followed: a link the notebook left there may point at a file that never ends.
        if path.is_symlink() or not path.is_file() or file_hash(path) != digest:
            kind = "public_tests_modified" if name == "public_tests.py" else "helper_file_changed"
            findings.append(finding(kind, f"the notebook changed or removed {name} while it ran"))
    return findings
