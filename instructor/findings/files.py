"""The lab's helper and data files around a submission: the ones it brought, and the grader's
copies in its work folder after the run.

The grader never runs a submission's own helper files: its work folder holds the instructor's
(:func:`instructor.lab.files.lay_out`). A submitted copy that differs is reported, and so is a
grader's copy the notebook changed while it ran.
"""
import hashlib

from instructor.findings.registry import finding
from instructor.lab.files import DATA_FILES, HELPER_FILES, PROJECT_ROOT


def file_hash(path):
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def hashes(folder, names=HELPER_FILES + DATA_FILES):
    """{relative path: sha256} of the lab files in ``folder`` (missing ones left out)."""
    return {name: file_hash(folder / name) for name in names if (folder / name).is_file()}


def submitted_file_findings(folders):
    """Helper and data files in the submission's folders (its own folder and the one holding
    its notebook) that differ from the instructor's."""
    findings, seen = [], set()
    instructor = hashes(PROJECT_ROOT)
    for folder in folders:
        if folder is None:
            continue
        for name, digest in hashes(folder).items():
            if digest == instructor.get(name) or (folder / name).resolve() in seen:
                continue
            seen.add((folder / name).resolve())
            where = folder / name
            if name == "public_tests.py":
                findings.append(finding("public_tests_modified", f"{where} differs from the "
                                        f"instructor's public_tests.py (the grader used its own)"))
            else:
                findings.append(finding("submitted_file_differs", f"{where} differs from the "
                                        f"instructor's {name} (the grader used its own)"))
    return findings


def workdir_findings(before, workdir):
    """The grader's copies of the lab's files that the notebook changed or removed while it
    ran (``before``: :func:`hashes` of the work folder before the first cell)."""
    findings = []
    for name, digest in before.items():
        path = workdir / name
        if not path.is_file() or file_hash(path) != digest:
            kind = "public_tests_modified" if name == "public_tests.py" else "helper_file_changed"
            findings.append(finding(kind, f"the notebook changed or removed {name} while it ran"))
    return findings
