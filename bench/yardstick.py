"""yardstick.py: how close to the machine's limit clrun runs (issue 23), for bench.py.

Measured one after the other in one call, so that they share the machine's load:
  the FP32 FMA peak   build/fma_peak: every core, the widest vector ISA the CPU
                      and OS offer (AVX-512F, AVX2+FMA, ...), twelve independent
                      multiply-add chains a thread
  OpenBLAS's SGEMM    numpy's wheel in the bench venv (its bundled OpenBLAS), with
                      OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for that command
                      alone so that OpenBLAS picks its kernels for this CPU;
                      threadpoolctl names the kernels (its "architecture")
  clrun's GEMM        build/gemm_bench --table: square products and the seed
                      models' dense layers through the device's kernel plan
Each figure is given over the wall clock and over the CPU time the threads got
(times the cores): on a shared machine the wall clock measures the share a
program got, the CPU time what the cores do for it; on an idle machine they
agree. The FMA peak over the CPU time is the yardstick every "of peak" is
against.
"""
import json
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FMA_PEAK = os.path.join(ROOT, "build", "fma_peak")
GEMM_BENCH = os.path.join(ROOT, "build", "gemm_bench")
OPENBLAS_SIZES = (1024, 2048, 4096)
UNSET = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

# numpy's float32 matmul is OpenBLAS's SGEMM; best of a few after a warm-up
OPENBLAS_SCRIPT = """
import json, os, sys, time
import numpy as np
try:
    from threadpoolctl import threadpool_info
    blas = [[i.get("version"), i.get("architecture"), i.get("num_threads")]
            for i in threadpool_info() if i.get("internal_api") == "openblas"]
except ImportError:
    blas = None
cores = os.cpu_count() or 1
rates = {}
for n in %r:
    rng = np.random.default_rng(0)
    a, b = rng.random((n, n), dtype=np.float32), rng.random((n, n), dtype=np.float32)
    a @ b
    wall = cpu = 0.0
    for _ in range(3):
        w, c = time.perf_counter(), time.process_time()
        a @ b
        w, c = time.perf_counter() - w, time.process_time() - c
        wall = max(wall, 2 * n ** 3 / w / 1e9)
        cpu = max(cpu, 2 * n ** 3 * cores / max(c, 1e-9) / 1e9)
    rates[n] = [wall, cpu]
print(json.dumps({"numpy": np.__version__, "blas": blas, "rates": rates}))
""" % (OPENBLAS_SIZES,)


class Yardstick:
    """peak: the FMA peak over the CPU time (GFLOP/s), None when unmeasured;
    blas: OpenBLAS's best SGEMM over the CPU time; lines: the report."""

    def __init__(self):
        self.peak, self.blas, self.lines = None, None, []

    def pct(self, gflops):
        return "%.0f%%" % (100 * gflops / self.peak) if self.peak and gflops else "-"


def _run(cmd, limit, env=None):
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=limit, env=env)
    if out.returncode != 0:
        lines = (out.stderr or out.stdout).strip().splitlines() or ["no output"]
        raise RuntimeError("exit %d: %s" % (out.returncode, lines[-1][:160]))
    return out.stdout


def fma_peak(y):
    out = _run([FMA_PEAK], 120).strip().splitlines()
    y.peak = float(out[-1])
    y.lines.append("FMA peak        %s" % out[0].replace("fma_peak: ", ""))


def openblas(y, python):
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    r = json.loads(_run([python, "-c", OPENBLAS_SCRIPT], 600, env))
    kernels = ", ".join("OpenBLAS %s, %s kernels, %s threads" % tuple(b) for b in r["blas"]) \
        if r["blas"] else "threadpoolctl not installed: kernels unknown"
    y.lines.append("OpenBLAS SGEMM  numpy %s (%s; %s unset)" % (r["numpy"], kernels,
                                                                " and ".join(UNSET)))
    for n, (wall, cpu) in sorted(r["rates"].items(), key=lambda kv: int(kv[0])):
        y.lines.append("  %5s^3         %7.1f GFLOP/s wall %7.1f cpu  %4s of the FMA peak" % (
            n, wall, cpu, y.pct(cpu)))
    y.blas = max(cpu for _, cpu in r["rates"].values())


def clrun_gemm(y, device):
    out = _run([GEMM_BENCH, "--table"] + (["--device", device] if device else []), 900)
    lines = out.strip().splitlines()
    y.lines.append("clrun GEMM      %s" % lines[0].replace("gemm on ", ""))
    y.lines.append("  %s  %6s %9s" % (lines[1], "of FMA", "of BLAS"))
    for line in lines[2:]:
        cpu = float(line.split()[-1])
        y.lines.append("  %s  %6s %9s" % (line, y.pct(cpu),
                                           "%.0f%%" % (100 * cpu / y.blas) if y.blas else "-"))


def measure(python, device=None):
    """The yardstick, each part that cannot run saying why in its place."""
    y = Yardstick()
    for name, part in (("FMA peak", lambda: fma_peak(y)),
                       ("OpenBLAS", lambda: openblas(y, python)),
                       ("clrun GEMM", lambda: clrun_gemm(y, device))):
        try:
            part()
        except (OSError, RuntimeError, ValueError, IndexError, KeyError,
                subprocess.TimeoutExpired) as e:
            y.lines.append("%-15s not measured: %s" % (name, e))
    return y
