"""startup.py: how long clrun and PyTorch take to train their first batch (`make bench`).

A user's first command pays for more than its batches: clrun builds its
kernels and calibrates the device's kernel plan, and POCL compiles each
kernel's work-group function at its first launch; PyTorch imports itself. So
for LeNet (the quickstart's model) and ResNet-18, the whole command that
trains one batch and evaluates one is timed, wall clock from start to exit:
  clrun cold   empty kernel caches: clrun's ($XDG_CACHE_HOME) and POCL's
               ($POCL_CACHE_DIR), as on a fresh machine, a new driver or a
               Slurm node with a cache of its own
  clrun warm   the same command again, the caches full
  PyTorch      its worker (peer_torch.py --timed 0): import, the model, one
               batch trained (none evaluated), each PyTorch at 2 threads
with clrun's own account of the cold run beside it (the build, and the
calibration's share). Each figure is the best of the rounds.

The functions take `bench`, the bench.py module (its run, RunError,
clrun_experiment, CLRUN and HERE), which calls them.
"""
import os
import re
import tempfile
import time

import workload


def _clrun_once(bench, name, cifar, caches, device):
    """(seconds, clrun's stdout) of one batch trained and one evaluated."""
    work = workload.MODELS[name]
    with tempfile.TemporaryDirectory(prefix="clrun-start-") as tmp:
        exp = os.path.join(tmp, "start.yaml")
        bench.clrun_experiment(exp, work, work.batch, "mnist")
        cmd = [bench.CLRUN, "run", exp, "train.epochs=1", "--out", os.path.join(tmp, "run")]
        if device:
            cmd += ["--device", device]
        env = {"XDG_CACHE_HOME": caches, "POCL_CACHE_DIR": os.path.join(caches, "pocl")}
        if work.data == "cifar10":
            env["CLRUN_ROOT"] = cifar
        started = time.perf_counter()
        out = bench.run(cmd, work.limit, env)
        return time.perf_counter() - started, out


def _said(pattern, out):
    found = re.search(pattern, out)
    return float(found.group(1)) if found else 0.0


def clrun_start(bench, name, cifar, device):
    """{cold, warm, build, calibration}: seconds of the first start on empty
    caches, of the second, and of the first's build and calibration as clrun
    reported them (each the best of the rounds where several are run)."""
    with tempfile.TemporaryDirectory(prefix="clrun-caches-") as caches:
        cold, out = _clrun_once(bench, name, cifar, caches, device)
        warm, _ = _clrun_once(bench, name, cifar, caches, device)
    calibration = _said(r"Calibrated the kernel plans on .* in ([0-9.]+)s", out)
    ready = _said(r"kernel plan, \w[\w ]* in ([0-9.]+)s", out)  # the device, calibration included
    return {"cold": cold, "warm": warm, "calibration": calibration, "build": ready - calibration}


def torch_start(bench, peer, name, cifar):
    """Seconds of a PyTorch process that imports, builds the model and trains one batch."""
    work = workload.MODELS[name]
    cmd = [peer.python, os.path.join(bench.HERE, peer.worker), "--model", name, "--images",
           str(work.batch), "--timed", "0", "--data", "mnist", "--threads", "2"]
    if work.data == "cifar10":
        cmd += ["--cifar", cifar]
    started = time.perf_counter()
    bench.run(cmd, work.limit, peer.env)
    return time.perf_counter() - started


def report(bench, peers, names, rounds, cifar, device):
    """Prints the start-up table for those of names that are LeNet or ResNet-18."""
    names = [n for n in names if n in ("lenet", "resnet18")]
    torches = [p for p in peers if p.worker == "peer_torch.py"]
    if not names:
        return
    print("\nStart-up: one batch trained and one evaluated, the whole command, seconds, best of "
          "%d (cold: empty kernel caches; clrun's build and calibration of the cold run beside)"
          % rounds)
    print("%-10s %10s %8s %12s %10s  %s" % ("model", "clrun cold", "build", "calibration",
                                            "clrun warm", "  ".join("%s x2" % p.name
                                                                    for p in torches)))
    for name in names:
        best, anchors = {}, {}
        for _ in range(rounds):
            try:
                run = clrun_start(bench, name, cifar, device)
                best = {k: min(best.get(k, v), v) for k, v in run.items()}
            except bench.RunError as e:
                print("%-10s clrun: %s" % (name, e))
            for p in torches:
                try:
                    anchors[p.name] = min(anchors.get(p.name, 1e9), torch_start(bench, p, name,
                                                                                cifar))
                except bench.RunError as e:
                    print("%-10s %s: %s" % (name, p.name, e))
        if best:
            print("%-10s %10.2f %8.2f %12.2f %10.2f  %s" % (
                name, best["cold"], best["build"], best["calibration"], best["warm"],
                "  ".join("%*.2f" % (len(p.name) + 3, anchors[p.name]) for p in torches
                          if p.name in anchors)))
