"""What the stored-output masks cost on one long line without spaces, the old site-packages
mask against the one in nbval_sanitize.cfg (which starts a path only where a token starts).

    python benchmarks/bench_sanitize.py

Prints seconds per line length for both; nothing is asserted. A submission's stored line of
100,000 characters took the old mask 233 s on this machine, and its time grows with the square
of the length; the grader compares no line longer than MAX_COMPARED_LINE characters anyway.
"""
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from instructor.findings.outputs import MAX_COMPARED_LINE, load_patterns  # noqa: E402

OLD = r"""[^\s"']*[/\\]site-packages[/\\]"""


def seconds(pattern, text):
    started = time.perf_counter()
    re.sub(pattern, "SITE_PACKAGES/", text)
    return time.perf_counter() - started


def main():
    [new] = [regex for regex, _ in load_patterns() if "site-packages" in regex]
    print(f"old mask: {OLD}\nnew mask: {new}\n")
    print(f"{'characters':>10} {'old (s)':>10} {'new (s)':>10}")
    for length in (1_000, 5_000, MAX_COMPARED_LINE, 20_000, 100_000):
        text = "x" * length
        # The old mask is quadratic: past 20,000 characters it is not run (minutes).
        old = f"{seconds(OLD, text):10.3f}" if length <= 20_000 else f"{'(minutes)':>10}"
        print(f"{length:>10,} {old} {seconds(new, text):10.4f}")


if __name__ == "__main__":
    main()
