"""Sum of squares in pure Python: a pyperformance-style script (test fixture).

Laid out and written like pyperformance's bm_*/run_benchmark.py files, and run unchanged.
"""

import pyperf


def bench_sumsquares(n):
    total = 0
    for i in range(n):
        total += i * i
    return total


def add_cmdline_args(cmd, args):
    cmd.extend(("--size", str(args.size)))


if __name__ == "__main__":
    runner = pyperf.Runner(add_cmdline_args=add_cmdline_args)
    runner.metadata["description"] = "Sum of squares in pure Python"
    runner.argparser.add_argument("--size", type=int, default=20000)
    args = runner.parse_args()
    runner.bench_func("sumsquares", bench_sumsquares, args.size)
