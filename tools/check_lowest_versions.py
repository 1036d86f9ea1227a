"""Run the lab at the lowest versions requirements.txt allows, to prove its lower bounds hold.

    python tools/check_lowest_versions.py [--venv PATH] [--reuse]

1. Checks that requirements-lowest.txt pins every package at its lower bound in requirements.txt.
2. Makes a fresh virtual environment (default .venv-lowest/ in the project; --reuse keeps an
   existing one) with the interpreter running this script, and installs
   ``-r requirements.txt -c requirements-lowest.txt``: the packages the lab names at their lowest
   allowed versions, their own dependencies at whatever pip picks for them.
3. Checks that what got installed is what was pinned.
4. Runs the notebook with the project's own nbval settings (pytest.ini: full mode, every stored
   output compared after nbval_sanitize.cfg's masks, the kernel from this environment), and the
   tests of the checks students run (tests/test_public_tests.py: right answers in many
   spellings pass, wrong ones fail with their message), since both run on the student's install.

Strict nbval is the bar: on x86-64 Linux the stored outputs, losses and error counts included,
come out identical at the lowest versions, so no output is excused. Prints the time of the
install and of the run and the environment's size; exits with pytest's status (1 for a
failure before it).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from version_bounds import BoundsError, pins_in_effect, read_pins, sync_problems, version_problems

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "requirements.txt"
LOWEST = ROOT / "requirements-lowest.txt"
# What runs on a student's own install: the notebook, and the checks that end each exercise.
STUDENT_FACING_TESTS = ("lab2_multiclass.ipynb", "tests/test_public_tests.py")
DEFAULT_VENV = ROOT / ".venv-lowest"


def venv_python(venv):
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def run(command, **kwargs):
    print("$", " ".join(str(part) for part in command), flush=True)
    return subprocess.run([str(part) for part in command], **kwargs)


def make_venv(venv, reuse):
    """Create ``venv`` afresh (or keep it with ``reuse``); refuses to delete what is not a venv."""
    if venv.exists() and not reuse:
        if Path(sys.prefix).resolve() == venv.resolve():
            sys.exit(f"--venv {venv}: that is the environment running this script, which this "
                     f"check would delete; pass another path, e.g. --venv {DEFAULT_VENV}")
        if not (venv / "pyvenv.cfg").is_file():
            sys.exit(f"--venv {venv}: expected a virtual environment to replace (a folder with "
                     f"pyvenv.cfg), found something else; pass a new path or remove it yourself")
        shutil.rmtree(venv)
    if not venv_python(venv).exists():
        run([sys.executable, "-m", "venv", venv], check=True)


def installed_versions(venv, names):
    """{name: version string, or None when not installed} as the venv's own Python sees them."""
    probe = ("import importlib.metadata as m, json, sys\n"
             "found = {}\n"
             "for name in sys.argv[1:]:\n"
             "    try: found[name] = m.version(name)\n"
             "    except m.PackageNotFoundError: found[name] = None\n"
             "print(json.dumps(found))\n")
    result = subprocess.run([str(venv_python(venv)), "-c", probe, *names],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def isolated_env(venv):
    """The caller's environment with ``venv`` first on PATH and no PYTHONPATH leaking in."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "PYTHONHOME")}
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = str(venv_python(venv).parent) + os.pathsep + env.get("PATH", "")
    return env


def folder_size(path):
    return sum(entry.stat().st_size for entry in Path(path).rglob("*")
               if entry.is_file() and not entry.is_symlink())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV,
                        help=f"where to build the environment (default {DEFAULT_VENV})")
    parser.add_argument("--reuse", action="store_true",
                        help="keep an existing environment at --venv instead of a fresh one")
    args = parser.parse_args(argv)
    venv = args.venv.resolve()

    requirements_text = REQUIREMENTS.read_text(encoding="utf-8")
    lowest_text = LOWEST.read_text(encoding="utf-8")
    try:
        problems = sync_problems(requirements_text, lowest_text)
        pins = pins_in_effect(requirements_text, read_pins(lowest_text))
    except BoundsError as error:
        sys.exit(f"--- {error}")
    if problems:
        sys.exit("--- requirements-lowest.txt disagrees with requirements.txt:\n" +
                 "\n".join(problems))
    print(f"--- {len(pins)} packages at their lower bounds: " +
          ", ".join(f"{name} {version}" for name, version in sorted(pins.items())), flush=True)

    started = time.perf_counter()
    make_venv(venv, args.reuse)
    install = run([venv_python(venv), "-m", "pip", "install", "-q", "-r", REQUIREMENTS,
                   "-c", LOWEST], env=isolated_env(venv))
    if install.returncode != 0:
        sys.exit(f"--- pip could not install requirements.txt at the pins of {LOWEST.name} "
                 f"(exit {install.returncode}, its message is above); if the pins cannot be "
                 f"resolved together, raise the lower bounds in both files until they can")
    install_seconds = time.perf_counter() - started

    mismatches = version_problems(pins, installed_versions(venv, sorted(pins)))
    if mismatches:
        sys.exit("--- the environment is not at the lowest versions:\n" + "\n".join(mismatches))

    started = time.perf_counter()
    # pytest.ini's addopts make this strict nbval with the project's sanitize masks, and
    # --nbval-current-env starts the kernel with this venv's Python.
    result = run([venv_python(venv), "-m", "pytest", *STUDENT_FACING_TESTS], cwd=ROOT,
                 env=isolated_env(venv))
    run_seconds = time.perf_counter() - started

    outcome = "passed" if result.returncode == 0 else f"FAILED (pytest exit {result.returncode})"
    print(f"--- lowest versions {outcome}: environment {install_seconds:.0f} s, notebook and checks "
          f"{run_seconds:.0f} s, {venv.name} {folder_size(venv) / 1e9:.2f} GB "
          f"(python {sys.version_info.major}.{sys.version_info.minor})", flush=True)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
