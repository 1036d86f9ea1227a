"""The table of finding kinds (instructor/findings/registry.py): every kind a detector names is
in it, every kind in it is named by some detector, and each says what it means."""
import re
from pathlib import Path

import pytest

import lab_submissions  # noqa: F401  (puts the project on sys.path)
from instructor.findings.registry import KINDS, TAMPERING, WARNING, finding, flagged

PACKAGE = Path(__file__).resolve().parents[1] / "instructor"
# finding("kind", ...) in the detectors, and the static scan's self._add("kind", ...).
NAMED = re.compile(r"""(?:finding|_add)\(\s*["']([a-z_]+)["']""")


def _named_kinds():
    kinds = {}
    for path in PACKAGE.rglob("*.py"):
        if path.name == "registry.py":
            continue
        for match in NAMED.finditer(path.read_text(encoding="utf-8")):
            name = match.group(1)
            kinds.setdefault(name, set()).add(path.relative_to(PACKAGE).as_posix())
    return kinds


def test_every_kind_a_detector_names_is_in_the_table():
    named = _named_kinds()
    assert len(named) >= 15, named  # the pattern still finds the detectors' calls
    unknown = {name: files for name, files in named.items() if name not in KINDS}
    assert not unknown, f"kinds not in the registry: {unknown}"


def test_every_kind_in_the_table_is_named_by_a_detector():
    source = "\n".join(p.read_text(encoding="utf-8") for p in PACKAGE.rglob("*.py")
                       if p.name != "registry.py")
    unused = [name for name in KINDS if f'"{name}"' not in source and f"'{name}'" not in source]
    assert not unused, f"kinds no detector reports: {unused}; delete them or report them"


@pytest.mark.parametrize("name", sorted(KINDS))
def test_each_kind_says_what_it_means_and_what_students_read(name):
    kind = KINDS[name]
    assert kind.severity in (TAMPERING, WARNING)
    assert len(kind.means) > 30 and kind.means[0].islower(), kind.means
    if kind.severity == TAMPERING:  # the only ones a student's feedback shows
        assert kind.student_text.endswith(".") and len(kind.student_text) > 30, kind.student_text


def test_an_unknown_kind_is_refused_with_the_known_ones():
    with pytest.raises(KeyError, match="check_cell_deleted"):
        finding("check_cel_deleted", "a typo")


def test_only_tampering_flags_a_submission():
    assert not flagged([finding("thread_started", "x"), finding("outputs_edited", "y")])
    assert flagged([finding("thread_started", "x"), finding("monkeypatch", "y")])
