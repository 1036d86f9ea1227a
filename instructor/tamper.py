"""Find tampering in a submission: each function returns a list of findings.

A finding is a dict ``{"kind", "severity", "message", "cell", "exercise"}``. Severity
``tampering`` fails the submission; ``warning`` is reported for the instructor to judge (something
unusual that an honest student may also do, or that cannot change the grade).

This module compares the check cells with the source notebook's, the submitted and the used
helper files with the instructor's, and what the probes saw in the kernel before and after the
student's code. The code itself is scanned by :mod:`instructor.static_scan`, the stored outputs
compared by :mod:`instructor.output_compare`.
"""
import hashlib

from instructor import CHECK_FUNCTIONS, DATA_FILES, HELPER_FILES, OPTIONAL_EXERCISES, PROJECT_ROOT
from instructor.cells import first_line, graded_cells

TAMPERING, WARNING = "tampering", "warning"


def finding(kind, severity, message, cell=None, exercise=None):
    """One finding, as stored in the report."""
    return {"kind": kind, "severity": severity, "message": message, "cell": cell,
            "exercise": exercise}


# ---------------------------------------------------------------------------------------------
# The check cells
# ---------------------------------------------------------------------------------------------

def check_cell_findings(source, submission):
    """Check cells of the source notebook that the submission deleted or edited."""
    findings = []
    submitted = graded_cells(submission, "check")
    for exercise, (_, cell) in graded_cells(source, "check").items():
        expected = cell.source.strip()
        severity = WARNING if exercise in OPTIONAL_EXERCISES else TAMPERING
        if exercise in submitted:
            index, found = submitted[exercise]
            if found.source.strip() != expected:
                findings.append(finding(
                    "check_cell_edited", severity,
                    f"the check cell of {exercise} was edited: expected `{expected}`, found "
                    f"`{first_line(found)}`", index, exercise))
            continue
        same = [i for i, c in enumerate(submission.cells)
                if c.cell_type == "code" and c.source.strip() == expected]
        if same:
            findings.append(finding(
                "check_cell_metadata_removed", WARNING,
                f"the check cell of {exercise} lost its metadata (cell {same[0]} still calls "
                f"`{expected}`)", same[0], exercise))
        else:
            findings.append(finding(
                "check_cell_deleted", severity,
                f"the check cell of {exercise} (`{expected}`) was deleted", None, exercise))
    return findings


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


# ---------------------------------------------------------------------------------------------
# What the probes saw in the kernel
# ---------------------------------------------------------------------------------------------

def kernel_findings(baseline, after, extract, workdir):
    """Patched libraries and checks that are not the instructor's, from the probes' records."""
    findings = []
    if baseline is None or after is None or extract is None:
        return [finding("grader_probe_failed", TAMPERING,
                        "the grader's probe could not read the kernel after the notebook ran "
                        "(something in the notebook broke it)")]
    findings += _fingerprint_changes(baseline, after)
    expected_file = str(workdir / "public_tests.py")
    if extract.get("public_tests_file") not in ("", expected_file):
        findings.append(finding("public_tests_replaced", TAMPERING,
                                f"the module public_tests was loaded from "
                                f"{extract['public_tests_file']}, not the instructor's copy"))
    for name, info in extract.get("checks", {}).items():
        exercise = next((e for e, c in CHECK_FUNCTIONS.items() if c == name), None)
        if not info.get("defined"):
            findings.append(finding("check_missing", WARNING,
                                    f"{name} is not defined in the notebook after it ran",
                                    None, exercise))
            continue
        about = info.get("about") or {}
        origin = about.get("where", "").rsplit(":", 1)[0]
        instructors = (origin == expected_file and about.get("module") == "public_tests"
                       and about.get("qualname") == name)
        if not instructors:
            findings.append(finding(
                "check_redefined", TAMPERING,
                f"{name} in the notebook is not the instructor's check: it is "
                f"{about.get('type')} {about.get('module')}.{about.get('qualname')} from "
                f"{_short_origin(about.get('where', ''))}", None, exercise))
    return findings


def _fingerprint_changes(baseline, after):
    findings = []
    for label, before_entries in baseline.items():
        after_entries = after.get(label, {})
        if "__error__" in before_entries or "__error__" in after_entries:
            continue
        module_before, module_after = before_entries.get("__module__"), after_entries.get("__module__")
        if module_before and module_after and module_before["id"] != module_after["id"]:
            findings.append(finding("monkeypatch", TAMPERING,
                                    f"the module {label} was replaced (now from "
                                    f"{module_after['file'] or 'no file: made in the notebook'})"))
            continue
        for name, before in before_entries.items():
            if name == "__module__":
                continue
            now = after_entries.get(name)
            if now is None:
                findings.append(finding("monkeypatch", TAMPERING, f"{label}.{name} was deleted"))
            elif "module" in before or "module" in now:
                if before.get("module") != now.get("module"):
                    findings.append(finding("monkeypatch", TAMPERING,
                                            f"{label}.{name} was replaced by {now}"))
            elif (before["id"], before["code"], before["defaults"]) != (now["id"], now["code"], now["defaults"]):
                about = now["about"]
                findings.append(finding(
                    "monkeypatch", TAMPERING,
                    f"{label}.{name} was replaced: now {about['type']} "
                    f"{about['module']}.{about['qualname']} from {_short_origin(about['where'])}"))
        for name in sorted(set(after_entries) - set(before_entries)):
            now = after_entries[name]
            about = now.get("about", {})
            if about.get("module") == "__main__" or about.get("where", "").startswith(("<", "/tmp/ipykernel")):
                findings.append(finding("monkeypatch", TAMPERING,
                                        f"{label}.{name} was added by the notebook"))
    return findings


def _short_origin(where):
    if not where:
        return "no source file (a built-in or a C function)"
    if "/tmp/ipykernel_" in where or where.startswith("<"):
        return "a notebook cell"
    return where
