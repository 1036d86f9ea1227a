"""requirements-lowest.txt pins exactly requirements.txt's lower bounds, and the comparison that
says so (tools/version_bounds.py) catches every way the two files can drift apart.

The notebook run itself at those versions is tools/check_lowest_versions.py, which CI runs
(.ci/run); it needs its own environment, so it is not repeated here.
"""
import sys
from pathlib import Path

import pytest
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

from version_bounds import (BoundsError, lower_bounds, pins_in_effect, read_pins,  # noqa: E402
                            sync_problems, version_problems)

REQUIREMENTS = (ROOT / "requirements.txt").read_text(encoding="utf-8")
LOWEST = (ROOT / "requirements-lowest.txt").read_text(encoding="utf-8")
LINUX_X86 = {"sys_platform": "linux", "platform_machine": "x86_64"}
MAC_ARM = {"sys_platform": "darwin", "platform_machine": "arm64"}


def test_the_committed_pins_equal_the_lower_bounds():
    assert sync_problems(REQUIREMENTS, LOWEST) == []


def test_every_requirement_has_a_pin_and_keras_is_past_the_known_failures():
    bounds = lower_bounds(REQUIREMENTS)
    assert set(read_pins(LOWEST)) == set(bounds)
    # Keras 3.0-3.6: the lab's fit(steps_per_execution=157) raises; 3.7-3.9: a correct model
    # with ReLU layer objects as activations cannot be saved, so the public check rejects it.
    assert bounds["keras"] >= Version("3.10")


def test_tensorflow_cpu_is_pinned_on_x86_linux_and_tensorflow_elsewhere():
    pins = read_pins(LOWEST)
    on_linux = pins_in_effect(REQUIREMENTS, pins, LINUX_X86)
    on_mac = pins_in_effect(REQUIREMENTS, pins, MAC_ARM)
    assert "tensorflow-cpu" in on_linux and "tensorflow" not in on_linux
    assert "tensorflow" in on_mac and "tensorflow-cpu" not in on_mac
    assert on_linux["keras"] == on_mac["keras"] == pins["keras"]


def test_bounds_read_through_comments_markers_and_short_versions():
    text = ("# a comment\n\nnumpy>=1.26,<3  # trailing comment\n"
            'tensorflow-cpu>=2.16.1,<2.22; sys_platform == "linux"\n'
            "Foo_Bar~=2.0\nexact==1.5\n")
    assert lower_bounds(text) == {"numpy": Version("1.26"), "tensorflow-cpu": Version("2.16.1"),
                                  "foo-bar": Version("2.0"), "exact": Version("1.5")}
    # "1.26" and "1.26.0" are the same version to pip, so either spelling agrees.
    assert sync_problems("numpy>=1.26\n", "numpy==1.26.0\n") == []


def test_a_pin_below_or_above_the_bound_is_named_with_both_versions():
    problems = sync_problems("keras>=3.7,<4\n", "keras==3.0.5\n")
    assert len(problems) == 1
    assert "keras is pinned to 3.0.5" in problems[0] and "lower bound is 3.7" in problems[0]
    assert "make them equal" in problems[0]


def test_a_missing_pin_says_which_line_to_add():
    problems = sync_problems("numpy>=1.26\nscipy>=1.11.1\n", "numpy==1.26.0\n")
    assert problems == ["requirements-lowest.txt: scipy is not pinned; requirements.txt allows "
                        "scipy>=1.11.1, so add the line 'scipy==1.11.1'"]


def test_a_pin_for_a_package_no_longer_required_is_flagged():
    problems = sync_problems("numpy>=1.26\n", "numpy==1.26.0\nkeras==3.7.0\n")
    assert len(problems) == 1 and "keras==3.7.0 is pinned" in problems[0]
    assert "remove the pin" in problems[0]


@pytest.mark.parametrize("line, found", [("keras<4", "'<4'"), ("keras", "'no version at all'"),
                                         ("keras>=3.7,>=3.8", "'>=3.7,>=3.8'"),
                                         ("keras==3.*", "'==3.*'")])
def test_a_requirement_without_one_lower_bound_is_refused(line, found):
    with pytest.raises(BoundsError) as error:
        lower_bounds(line + "\n")
    message = str(error.value)
    assert message.startswith("requirements.txt: keras needs exactly one lower bound")
    assert found in message and "'keras>=X.Y'" in message and "'keras==X.Y'" in message


def test_two_lower_bounds_for_one_package_under_two_markers_are_refused():
    text = ('numpy>=1.26; python_version < "3.13"\nnumpy>=2.1; python_version >= "3.13"\n')
    with pytest.raises(BoundsError, match="numpy has two lower bounds, 1.26 and 2.1"):
        lower_bounds(text)


def test_pip_options_and_broken_lines_in_requirements_are_refused_with_their_line():
    with pytest.raises(BoundsError, match=r"line 2: expected a requirement, found the pip "
                                          r"option '-r other.txt'"):
        lower_bounds("numpy>=1.26\n-r other.txt\n")
    with pytest.raises(BoundsError, match=r"line 1: 'numpy >= = 1' is not a valid requirement"):
        lower_bounds("numpy >= = 1\n")


@pytest.mark.parametrize("line", ["keras>=3.7", "keras==3.7; python_version < '3.13'",
                                  "keras[jax]==3.7", "keras==3.*", "keras", "not a pin !"])
def test_a_constraint_that_is_not_one_exact_pin_is_refused(line):
    with pytest.raises(BoundsError) as error:
        read_pins("# pins\n" + line + "\n")
    assert str(error.value) == (f"requirements-lowest.txt, line 2: expected 'name==version', found "
                                f"{line!r}; pin exactly one version, with no marker or extra")


def test_a_package_pinned_twice_is_refused():
    with pytest.raises(BoundsError, match="line 2: Keras is pinned twice"):
        read_pins("keras==3.7.0\nKeras==3.8.0\n")


def test_installed_versions_that_differ_from_the_pins_are_named():
    expected = {"keras": Version("3.7.0"), "numpy": Version("1.26.0"), "scipy": Version("1.11.1")}
    installed = {"keras": "3.9.0", "numpy": "1.26", "scipy": None}
    assert version_problems(expected, installed) == [
        "keras should be 3.7.0 (requirements-lowest.txt) but 3.9.0 is installed; pip did not "
        "apply the constraints file",
        "scipy should be installed at 1.11.1 but is not installed",
    ]
    assert version_problems(expected, {"keras": "3.7", "numpy": "1.26.0", "scipy": "1.11.1"}) == []


def test_ci_runs_the_lowest_versions_check_after_the_tests_and_fails_with_it():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "set -euo pipefail" in ci  # so a failing check fails CI
    commands = [line.strip() for line in ci.splitlines()]
    check = commands.index("python tools/check_lowest_versions.py")
    assert check > commands.index('run_tests "test command"')
    assert check > commands.index('run_tests "acceptance tests" -m acceptance')


def test_the_check_refuses_to_replace_a_folder_that_is_not_a_venv(tmp_path):
    from check_lowest_versions import make_venv
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(SystemExit) as stop:
        make_venv(tmp_path, reuse=False)
    assert f"--venv {tmp_path}: expected a virtual environment to replace" in str(stop.value)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_the_check_refuses_to_replace_the_environment_running_it(tmp_path, monkeypatch):
    from check_lowest_versions import make_venv
    (tmp_path / "pyvenv.cfg").write_text("home = /usr/bin\n")
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    with pytest.raises(SystemExit) as stop:
        make_venv(tmp_path, reuse=False)
    assert "that is the environment running this script" in str(stop.value)
    assert (tmp_path / "pyvenv.cfg").exists()
