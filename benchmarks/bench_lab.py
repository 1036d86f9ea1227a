"""How long the lab takes, and how much memory it needs: one table of medians over fresh processes.

Run:  python benchmarks/bench_lab.py [--runs N] [--quick] [--cells]

Every figure is the median of N runs (default 5; --quick: 2), each in a fresh process, the
measurements taken in turn so that a busy moment of the machine spreads over all of them:

- ``import tensorflow`` and ``import keras`` alone, with the notebook's environment variables;
- the notebook top to bottom, headless, kernel start included (what ``jupyter execute`` does):
  nbclient runs a temporary copy of ``lab2_multiclass.ipynb`` (the source is never written) in a
  fresh kernel whose working folder is the project, and reads the kernel's peak memory (VmHWM in
  ``/proc/<pid>/status``) after the last cell;
- the lab's training alone, Keras ``fit`` against the same training in plain NumPy
  (``benchmarks/numpy_reference.py``), with the final losses and error counts of both, and a
  check that the Keras weights are bit-identical in every fresh process;
- the grading of one submission, ``python -m instructor grade`` on a copy of the source notebook,
  in the grader's sandbox, with ``--stop-after-checks`` and with ``--no-sandbox``, taken in
  turn: the difference of the first and the last is the
  sandbox's overhead on a whole grading; the notebook run by the grader's kernel runner with and
  without the sandbox, wall time and the kernel's CPU time (which a busy machine barely
  changes); and the sandbox's own cost, measured alone: a kernel started, one cell run and the
  kernel stopped, with and without the sandbox.

The Keras training is a faithful copy of the notebook's cells (``MODEL_CODE`` and
``TRAINING_CODE`` below, run with ``exec``); the table says so when the notebook no longer
contains them, so that the copy can be brought up to date. Timings print, nothing is asserted:
the targets column says what the lab aims for on a 2-core machine.
"""
import argparse
import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "lab2_multiclass.ipynb"

# The notebook's first cell sets these before importing TensorFlow, whatever the environment says.
NOTEBOOK_ENV = {"KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3",
                "TF_ENABLE_ONEDNN_OPTS": "0"}

# Faithful copies of the notebook's model cell (Exercise 2's reference solution) and training
# cell. Keep them in step with the notebook: the table flags any difference.
MODEL_CODE = """
keras.utils.set_random_seed(1234)
model = Sequential(
    [
        keras.Input(shape=(400,)),
        Dense(25, activation="relu", name="L1"),
        Dense(15, activation="relu", name="L2"),
        Dense(10, activation="linear", name="L3"),
    ],
    name="my_model",
)
"""
TRAINING_CODE = """
model.compile(
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    optimizer=keras.optimizers.Adam(learning_rate=0.001),
)
history = fit_model(model, X, y, epochs=40)
"""

IMPORT_CODE = ("import time; start = time.perf_counter(); import {module}; "
               "print(time.perf_counter() - start)")


# --------------------------------------------------------------------------------------------
# Workers: each runs in a fresh process and prints one line of JSON.

def worker_keras():
    os.environ.update(NOTEBOOK_ENV)  # as the notebook's first cell does
    sys.path.insert(0, str(ROOT))
    import numpy as np
    import keras
    from keras import Sequential
    from keras.layers import Dense

    from autils import fit_model, load_data

    X, y = load_data()
    scope = {"keras": keras, "Sequential": Sequential, "Dense": Dense, "X": X, "y": y,
             "fit_model": fit_model}
    exec(MODEL_CODE, scope)
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # fit_model prints its log
        exec(TRAINING_CODE, scope)  # compile + fit; compile only records its arguments
    seconds = time.perf_counter() - start
    model, history = scope["model"], scope["history"]
    weights = model.get_weights()
    digest = hashlib.sha256(b"".join(np.ascontiguousarray(w).tobytes() for w in weights))
    logits = model.predict(X, batch_size=len(X), verbose=0)
    errors = int(np.sum(np.argmax(logits, axis=1) != y.ravel()))
    print(json.dumps({"seconds": seconds, "loss": history.history["loss"][-1], "errors": errors,
                      "weights_sha256": digest.hexdigest()}))


def worker_numpy():
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from autils import load_data
    import numpy_reference

    X, y = load_data()
    start = time.perf_counter()
    net, losses = numpy_reference.train(X, y)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "loss": losses[-1],
                      "errors": numpy_reference.errors(net, X, y)}))


def worker_notebook(path):
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, record_timing=True,
                            resources={"metadata": {"path": str(ROOT)}})
    peak_kb, cpu_after_cell = [], {}

    def read_peak(cell_index=None, **_):
        # VmHWM: the kernel's peak resident memory so far, read while it is still running.
        pid = client.km.provisioner.process.pid
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    peak_kb.append(int(line.split()[1]))
        # The kernel's CPU time (all threads, user + system) so far: unlike wall time, it barely
        # grows when other jobs share the machine, so it compares runs on a busy machine.
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        cpu_after_cell[cell_index] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    client.on_cell_executed = read_peak
    client.execute()
    cells, cpu_before = [], 0.0
    for index, cell in enumerate(nb.cells):
        timing = cell.get("metadata", {}).get("execution", {})
        if cell.cell_type == "code" and "iopub.execute_input" in timing:
            seconds = _iso_seconds(timing["shell.execute_reply"]) - _iso_seconds(timing["iopub.execute_input"])
            first_line = next((line for line in cell.source.splitlines() if line.strip()), "")
            cpu = cpu_after_cell.get(index, cpu_before) - cpu_before
            cpu_before = cpu_after_cell.get(index, cpu_before)
            cells.append({"index": index, "seconds": seconds, "cpu_seconds": cpu,
                          "first_line": first_line[:60]})
    stderr_outputs = sum(1 for cell in nb.cells if cell.cell_type == "code"
                         for output in cell.get("outputs", [])
                         if output.get("output_type") == "stream" and output.get("name") == "stderr")
    print(json.dumps({"peak_mb": max(peak_kb) / 1024, "cells": cells,
                      "kernel_cpu_seconds": max(cpu_after_cell.values()),
                      "stderr_outputs": stderr_outputs}))


def _iso_seconds(stamp):
    from datetime import datetime
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def worker_runner_notebook(mode):
    """The notebook run by the grader's kernel runner in a work folder like the grader's, with
    or without the sandbox: wall seconds and the CPU seconds of every process of the kernel
    (the runner's watchdog sums them; the sandbox's processes are not all reaped by this one,
    so operating-system accounting of children would miss them)."""
    sys.path.insert(0, str(ROOT))
    import nbformat
    from instructor.engine import sandbox
    from instructor.engine.kernel import run_notebook
    from instructor.lab.files import lay_out

    with tempfile.TemporaryDirectory(prefix="bench-runner-") as workdir:
        lay_out(workdir, "helpers", "data", "images")
        notebook = nbformat.read(NOTEBOOK, as_version=4)
        run = run_notebook(notebook, workdir, cell_timeout=600,
                           isolation=sandbox.make() if mode == "sandboxed" else None,
                           threads=os.cpu_count() or 1)
    failed = [cell for cell in run.cells if cell.status != "ok"]
    if failed:
        raise RuntimeError(f"runner notebook ({mode}): {failed[0]}")
    print(json.dumps({"seconds": run.seconds, "cpu_seconds": run.cpu_seconds}))


def worker_kernel_start(mode):
    """Seconds for the kernel runner to start a kernel, run ``x = 1`` and stop it."""
    sys.path.insert(0, str(ROOT))
    import nbformat
    from instructor.engine import sandbox
    from instructor.engine.kernel import run_notebook

    with tempfile.TemporaryDirectory(prefix="bench-kernel-") as workdir:
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
        start = time.perf_counter()
        run = run_notebook(notebook, workdir, cell_timeout=120,
                           isolation=sandbox.make() if mode == "sandboxed" else None)
        seconds = time.perf_counter() - start
    if [cell.status for cell in run.cells] != ["ok"]:
        raise RuntimeError(f"kernel start ({mode}): {run.cells}")
    print(json.dumps({"seconds": seconds}))


WORKERS = {"keras": worker_keras, "numpy": worker_numpy, "notebook": worker_notebook,
           "kernel_start": worker_kernel_start, "runner_notebook": worker_runner_notebook}


# --------------------------------------------------------------------------------------------
# The parent: runs the workers in fresh processes and prints the table.

def run(args, env=None, timeout=900):
    """Run a command with the project as working folder; return (wall seconds, process)."""
    start = time.perf_counter()
    proc = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    return time.perf_counter() - start, proc


def run_worker(name, *extra):
    wall, proc = run([sys.executable, __file__, "--worker", name, *extra])
    if proc.returncode != 0:
        raise RuntimeError(f"{name} worker failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall"] = wall
    result["stderr_lines"] = len(proc.stderr.splitlines())
    return result


def time_import(module):
    env = {**NOTEBOOK_ENV, **os.environ}  # the notebook's settings, unless already set
    _, proc = run([sys.executable, "-c", IMPORT_CODE.format(module=module)], env=env)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    return float(proc.stdout.strip().splitlines()[-1])


def grader_command():
    """The grader's command line, or None with the reason it cannot run."""
    if not (ROOT / "instructor" / "__main__.py").is_file():
        return None, "no instructor/__main__.py"
    return [sys.executable, "-m", "instructor", "grade"], None


def time_grading(command, submission):
    """(wall seconds, verdict) of grading one submission.

    Exit code 1 means the grader finished and found a problem with the submission (the verdict
    says which); that is still a complete grading. Any other failure raises RuntimeError.
    """
    wall, proc = run(command + [str(submission)])
    if proc.returncode not in (0, 1):
        tail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1:] or [""]
        raise RuntimeError(f"exit code {proc.returncode}: {tail[0][:80]}")
    verdict = re.search(rf"^\s+{re.escape(submission.parent.name)}: (.+?) \(", proc.stdout, re.M)
    return wall, verdict.group(1) if verdict else f"exit code {proc.returncode}"


def code_in_notebook(code):
    """Whether the notebook contains ``code``, comments and whitespace aside."""
    import nbformat

    def normal(text):
        return re.sub(r"\s+", "", re.sub(r"#[^\n]*", "", text))

    nb = nbformat.read(NOTEBOOK, as_version=4)
    return normal(code) in normal("\n".join(c.source for c in nb.cells if c.cell_type == "code"))


def stats(values):
    return statistics.median(values), min(values), max(values)


def progress(message):
    print(message, file=sys.stderr, flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (default 5)")
    parser.add_argument("--quick", action="store_true", help="2 runs per figure")
    parser.add_argument("--cells", action="store_true",
                        help="also list the notebook's 8 slowest cells (median seconds)")
    parser.add_argument("--notebook-only", action="store_true",
                        help="only the imports and the notebook rows (a minute instead of several)")
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("worker_args", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        WORKERS[args.worker](*args.worker_args)
        return
    runs = 2 if args.quick else args.runs
    if runs < 1:
        parser.error("--runs must be at least 1")

    grade_cmd, grade_missing = grader_command()
    load_before = os.getloadavg()[0]
    results = {key: [] for key in ("import_tf", "import_keras", "keras", "numpy", "notebook", "grade",
                                   "grade_unsandboxed", "grade_stop_after_checks",
                                   "kernel_sandboxed", "kernel_unsandboxed",
                                   "runner_sandboxed", "runner_unsandboxed")}
    failures = {}
    with tempfile.TemporaryDirectory(prefix="bench_lab_") as tmp:
        copy = Path(tmp) / NOTEBOOK.name
        shutil.copyfile(NOTEBOOK, copy)
        submission = Path(tmp) / "submission" / NOTEBOOK.name  # the grader names it "submission"
        submission.parent.mkdir()
        shutil.copyfile(NOTEBOOK, submission)
        for index in range(runs):
            progress(f"run {index + 1} of {runs}")
            steps = [("import_tf", lambda: time_import("tensorflow")),
                     ("import_keras", lambda: time_import("keras")),
                     ("keras", lambda: run_worker("keras")),
                     ("numpy", lambda: run_worker("numpy")),
                     ("notebook", lambda: run_worker("notebook", str(copy)))]
            if grade_cmd:
                steps.append(("grade", lambda: time_grading(grade_cmd, submission)))
                steps.append(("grade_unsandboxed",
                              lambda: time_grading(grade_cmd + ["--no-sandbox"], submission)))
                steps.append(("grade_stop_after_checks",
                              lambda: time_grading(grade_cmd + ["--stop-after-checks"],
                                                   submission)))
            steps.append(("runner_sandboxed", lambda: run_worker("runner_notebook", "sandboxed")))
            steps.append(("runner_unsandboxed", lambda: run_worker("runner_notebook", "plain")))
            for _ in range(3):  # cheap, and the difference is small: more samples
                steps.append(("kernel_sandboxed", lambda: run_worker("kernel_start", "sandboxed")))
                steps.append(("kernel_unsandboxed", lambda: run_worker("kernel_start", "plain")))
            if args.notebook_only:
                for key, _ in steps:
                    if key not in ("import_tf", "import_keras", "notebook"):
                        failures.setdefault(key, "skipped: --notebook-only")
            for key, step in steps:
                if key in failures:
                    continue
                progress(f"  {key}")
                try:
                    results[key].append(step())
                except (RuntimeError, subprocess.TimeoutExpired, ValueError) as error:
                    failures[key] = str(error).strip().splitlines()[-1][:100]
                    progress(f"  {key} failed: {error}")

    load = (load_before, os.getloadavg()[0])
    print_table(runs, results, failures, grade_missing, load)
    if args.cells and results["notebook"]:
        print_cells(results["notebook"])


def print_table(runs, results, failures, grade_missing, load):
    rows = []  # (what, median, min, max, unit, target, note)

    def timed(what, values, target="", note=""):
        if values:
            rows.append((what, *stats(values), "s", target, note))

    def missing(what, key, default="n/a"):
        rows.append((what, None, None, None, "", "", f"n/a ({failures[key]})" if key in failures else default))

    timed("import tensorflow (fresh process)", results["import_tf"])
    timed("import keras (fresh process)", results["import_keras"])

    notebook = results["notebook"]
    if notebook:
        stderr = max(r["stderr_outputs"] for r in notebook)
        timed("notebook top to bottom, headless", [r["wall"] for r in notebook], "< 12 (10)",
              f"kernel start included; {stderr} stderr outputs")
        timed("  kernel CPU time, all threads", [r["kernel_cpu_seconds"] for r in notebook], "",
              "grows little with the machine's load: compares busy runs")
        peak = [r["peak_mb"] for r in notebook]
        rows.append(("  peak kernel memory (VmHWM)", *stats(peak), "MB", "< 1536", ""))
    else:
        missing("notebook top to bottom, headless", "notebook")

    keras_runs, numpy_runs = results["keras"], results["numpy"]
    copy_note = "copy of the notebook's cells"
    if not (code_in_notebook(MODEL_CODE) and code_in_notebook(TRAINING_CODE)):
        copy_note = "NOT the notebook's cells now: update the copy"
    if keras_runs:
        timed("lab training, Keras model.fit", [r["seconds"] for r in keras_runs], "", copy_note)
    else:
        missing("lab training, Keras model.fit", "keras")
    if numpy_runs:
        timed("lab training, plain NumPy", [r["seconds"] for r in numpy_runs], "",
              "benchmarks/numpy_reference.py")
    else:
        missing("lab training, plain NumPy", "numpy")
    if keras_runs and numpy_runs:
        ratio = statistics.median(r["seconds"] for r in keras_runs) / statistics.median(
            r["seconds"] for r in numpy_runs)
        rows.append(("  Keras / NumPy (medians)", ratio, None, None, "x", "< 4", ""))
        for name, group in (("Keras", keras_runs), ("NumPy", numpy_runs)):
            losses = sorted({f"{r['loss']:.4f}" for r in group})
            errors = sorted({str(r["errors"]) for r in group})
            rows.append((f"  {name}: final loss, training errors", None, None, None, "", "",
                         f"loss {'/'.join(losses)}; {'/'.join(errors)} errors of 5000"))
        digests = {r["weights_sha256"] for r in keras_runs}
        if len(keras_runs) < 2:
            same = "one run: not checked"
        elif len(digests) == 1:
            same = f"yes, in {len(keras_runs)} processes (sha256 {next(iter(digests))[:12]})"
        else:
            same = f"NO: {len(digests)} different results in {len(keras_runs)} processes"
        rows.append(("  Keras weights bit-identical", None, None, None, "", "yes", same))

    if results["grade"]:
        sandboxed = results["grade"]
        verdicts = "; ".join(sorted({verdict for _, verdict in sandboxed}))
        timed("grading one submission", [wall for wall, _ in sandboxed], "< 12",
              f"python -m instructor grade, sandboxed; verdict: {verdicts}")
        if notebook:
            rows.append(("  grading / headless run (medians)",
                         statistics.median(w for w, _ in sandboxed)
                         / statistics.median(r["wall"] for r in notebook), None, None, "x",
                         "<= 1.0", "the same notebook, both on this machine's cores"))
        stopped = results["grade_stop_after_checks"]
        if stopped:
            timed("  the same, --stop-after-checks", [wall for wall, _ in stopped], "< 12",
                  "sandboxed; the notebook only up to its last check cell")
        plain = results["grade_unsandboxed"]
        if plain:
            timed("  the same, --no-sandbox", [wall for wall, _ in plain], "",
                  "taken in turn with the sandboxed gradings")
            rows.append(("  sandbox overhead, wall (difference)",
                         statistics.median(w for w, _ in sandboxed)
                         - statistics.median(w for w, _ in plain), None, None, "s", "",
                         "of the medians; noise when under the min-max spread"))
        elif "grade_unsandboxed" in failures:
            missing("  the same, --no-sandbox", "grade_unsandboxed")
    elif "grade" in failures:
        missing("grading one submission", "grade")
    else:
        rows.append(("grading one submission", None, None, None, "", "",
                     f"n/a (grader not available: {grade_missing})"))

    sandboxed, plain = results["runner_sandboxed"], results["runner_unsandboxed"]
    if sandboxed and plain:
        for what, key, unit in (("wall", "seconds", "s"), ("kernel CPU", "cpu_seconds", "s")):
            timed(f"notebook in the grader's runner, sandbox, {what}",
                  [r[key] for r in sandboxed])
            timed(f"  the same without the sandbox, {what}", [r[key] for r in plain])
            rows.append((f"  sandbox overhead, {what} (difference)",
                         statistics.median(r[key] for r in sandboxed)
                         - statistics.median(r[key] for r in plain), None, None, unit, "",
                         "CPU grows little with the machine's load" if key != "seconds" else ""))
    else:
        for key in ("runner_sandboxed", "runner_unsandboxed"):
            if key in failures:
                missing(f"notebook in the grader's runner ({key})", key)
    sandboxed, plain = results["kernel_sandboxed"], results["kernel_unsandboxed"]
    if sandboxed and plain:
        timed("kernel start + 1 cell + stop, sandbox", [r["seconds"] for r in sandboxed], "",
              "instructor.engine.kernel, 3 per run")
        timed("  the same without the sandbox", [r["seconds"] for r in plain])
        rows.append(("  sandbox's own cost (difference)",
                     statistics.median(r["seconds"] for r in sandboxed)
                     - statistics.median(r["seconds"] for r in plain), None, None, "s", "", ""))
    else:
        for key in ("kernel_sandboxed", "kernel_unsandboxed"):
            if key in failures:
                missing(f"kernel start ({key})", key)

    print(f"Lab benchmark: median of {runs} fresh runs; {os.cpu_count()} CPUs, 1-minute load "
          f"average {load[0]:.1f} before and {load[1]:.1f} after; Python {sys.version.split()[0]}")
    header = f"{'what':<38} {'median':>8} {'min':>8} {'max':>8} {'unit':<4} {'target':<10} note"
    print(header)
    print("-" * len(header))
    for what, median, low, high, unit, target, note in rows:
        cells = [f"{v:8.2f}" if isinstance(v, float) else f"{'':8}" for v in (median, low, high)]
        if unit == "MB":
            cells = [f"{v:8.0f}" for v in (median, low, high)]
        print(f"{what:<38} {' '.join(cells)} {unit:<4} {target:<10} {note}".rstrip())


def print_cells(notebook_runs):
    """The 8 slowest cells (median wall and CPU seconds), and what no cell accounts for."""
    by_index = {}
    for run_result in notebook_runs:
        for cell in run_result["cells"]:
            entry = by_index.setdefault(cell["index"], (cell["first_line"], [], []))
            entry[1].append(cell["seconds"])
            entry[2].append(cell.get("cpu_seconds", float("nan")))
    slowest = sorted(by_index.items(), key=lambda item: -statistics.median(item[1][1]))[:8]
    print()
    print(f"{'notebook cell':<14} {'wall s':>8} {'CPU s':>8}  first line")
    for index, (first_line, seconds, cpu) in slowest:
        print(f"{'cell ' + str(index):<14} {statistics.median(seconds):8.2f} "
              f"{statistics.median(cpu):8.2f}  {first_line}")
    outside = [run_result["wall"] - sum(cell["seconds"] for cell in run_result["cells"])
               for run_result in notebook_runs]
    print(f"{'outside cells':<14} {statistics.median(outside):8.2f} {'':8}  kernel start and stop, "
          "client and process start")


if __name__ == "__main__":
    main()
