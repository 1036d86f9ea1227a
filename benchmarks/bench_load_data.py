"""How long ``autils.load_data()`` takes: cold (fresh process, SciPy import included) and warm.

Run:  python benchmarks/bench_load_data.py
"""
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 7


def time_fresh_process():
    code = ("import time; t = time.perf_counter(); import autils; autils.load_data(); "
            "print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return float(out.stdout)


def main():
    sys.path.insert(0, str(ROOT))
    import autils

    autils.load_data()  # warm the file cache and imports
    warm = []
    for _ in range(RUNS):
        start = time.perf_counter()
        autils.load_data()
        warm.append(time.perf_counter() - start)
    cold = [time_fresh_process() for _ in range(RUNS)]
    print(f"{'load_data()':<40} {'median s':>9} {'min s':>7} {'max s':>7}")
    for name, times in (("warm (already imported)", warm), ("fresh process, imports included", cold)):
        print(f"{name:<40} {statistics.median(times):9.3f} {min(times):7.3f} {max(times):7.3f}")


if __name__ == "__main__":
    main()
