"""Find tampering in a submission: each function returns a list of findings.

A finding is a dict ``{"kind", "severity", "message", "cell", "exercise"}``. Severity
``tampering`` fails the submission; ``warning`` is reported for the instructor to judge (something
unusual that an honest student may also do, or that cannot change the grade).

This module holds the finding format and compares the submitted and the used helper files with
the instructor's. Elsewhere: the check cells (:mod:`instructor.check_cells`), what the probe saw
in the kernel (:mod:`instructor.evidence`), the code (:mod:`instructor.static_scan`) and the
stored outputs (:mod:`instructor.output_compare`).
"""
import hashlib

from instructor import DATA_FILES, HELPER_FILES, PROJECT_ROOT

TAMPERING, WARNING = "tampering", "warning"


def finding(kind, severity, message, cell=None, exercise=None):
    """One finding, as stored in the report."""
    return {"kind": kind, "severity": severity, "message": message, "cell": cell,
            "exercise": exercise}


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------

def file_hash(path):
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def submitted_file_findings(folder):
    """Helper and data files in a submission folder that differ from the instructor's."""
    findings = []
    if folder is None:
        return findings
    for name in HELPER_FILES + DATA_FILES:
        submitted = folder / name
        if submitted.is_file() and file_hash(submitted) != file_hash(PROJECT_ROOT / name):
            if name == "public_tests.py":
                findings.append(finding("public_tests_modified", TAMPERING,
                                        "public_tests.py in the submission differs from the "
                                        "instructor's (the grader used its own copy)"))
            else:
                findings.append(finding("helper_file_modified", WARNING,
                                        f"{name} in the submission differs from the instructor's "
                                        f"(the grader used its own copy)"))
    return findings


def workdir_findings(hashes_before, workdir):
    """Helper or data files that the notebook changed in the grader's working directory."""
    findings = []
    for name, digest in hashes_before.items():
        path = workdir / name
        if not path.is_file() or file_hash(path) != digest:
            kind = "public_tests_modified" if name == "public_tests.py" else "helper_file_modified"
            findings.append(finding(kind, TAMPERING,
                                    f"the notebook changed or removed {name} while it ran"))
    return findings
