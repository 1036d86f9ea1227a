"""Grading N submissions in one run against two shards merged (issue 14's closing figures).

Makes N copies of an honest completed notebook (the student release with the reference
solutions), then times, each as a fresh `python -m instructor` process:

- one run: `grade submissions --report-dir single`;
- shard 1/2 and shard 2/2, one after the other (each is what one machine of a two-machine matrix
  spends; side by side on two machines the wall time is the slower of the two);
- `merge-reports` of the two shards.

It checks that the merged records equal the single run's (timings aside) and prints the figures.
On a shared machine the times are noisy: run it when the machine is quiet, and read the ratio.

Run:  python benchmarks/bench_shards.py [--count 10] [--jobs 2] [--no-sandbox]
"""
import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402

from lab_submissions import completed, release  # noqa: E402

MEASURED = ("timings", "peak_memory_mb")


def timed(arguments):
    """Run `python -m instructor ARGUMENTS` in the project; returns (seconds, exit code)."""
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "instructor", *map(str, arguments)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if result.returncode not in (0, 1):
        sys.exit(f"python -m instructor {' '.join(map(str, arguments))} failed:\n{result.stderr}")
    return time.monotonic() - started, result.returncode


def records(report_dir):
    document = json.loads((Path(report_dir) / "report.json").read_text())
    return [{k: v for k, v in r.items() if k not in MEASURED} for r in document["submissions"]]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10, help="submissions (default: 10)")
    parser.add_argument("--jobs", type=int, default=2, help="grade --jobs (default: 2)")
    parser.add_argument("--no-sandbox", action="store_true", help="pass --no-sandbox to grade")
    args = parser.parse_args()
    extra = ["--jobs", args.jobs] + (["--no-sandbox"] if args.no_sandbox else [])
    with tempfile.TemporaryDirectory(prefix="bench-shards-") as temp:
        temp = Path(temp)
        student = nbformat.read(release(temp / "release") / "lab2_multiclass.ipynb", as_version=4)
        honest = completed(student)
        submissions = temp / "submissions"
        submissions.mkdir()
        for number in range(1, args.count + 1):
            nbformat.write(honest, submissions / f"student{number:02d}.ipynb")
        single, _ = timed(["grade", submissions, "--report-dir", temp / "single", *extra])
        shards = [timed(["grade", submissions, "--shard", f"{k}/2", "--report-dir",
                         temp / f"shard{k}", *extra])[0] for k in (1, 2)]
        merge, _ = timed(["merge-reports", temp / "merged", temp / "shard1", temp / "shard2"])
        same = records(temp / "merged") == records(temp / "single")
    print(f"{args.count} submissions, --jobs {args.jobs}"
          f"{', not sandboxed' if args.no_sandbox else ''}")
    print(f"one run:                      {single:7.1f} s")
    print(f"shard 1/2, shard 2/2:         {shards[0]:7.1f} s, {shards[1]:.1f} s")
    print(f"merge-reports:                {merge:7.1f} s")
    print(f"two machines (slower + merge): {max(shards) + merge:6.1f} s "
          f"({single / (max(shards) + merge):.2f}x faster than one run)")
    print(f"merged records equal the single run's: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
