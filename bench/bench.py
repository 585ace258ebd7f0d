#!/usr/bin/python3
"""bench.py: clrun's training speed against the frameworks users would pick (`make bench`).

Every seed model (workload.py: LeNet, the ReLU MLP and the Keras CNN with
batch 64 and SGD on Fashion-MNIST; the Keras CIFAR-10 CNN with batch 32,
RMSprop and its dropout, and ResNet-18 with batch 128, SGD with momentum and
weight decay and batchnorm in training mode, on random CIFAR-10 records) is
trained by clrun and by each anchor on the same images:
  torch-debian  PyTorch of the Python running this script (Debian's 1.13
                under make bench), 1 and 2 threads
  torch-pip     the current PyTorch from the package index (build/bench-venv,
                which bench/setup-venv makes), 1 and 2 threads
  tinygrad-cl   tinygrad (same venv) on its OpenCL backend: its first OpenCL
                device, the POCL device clrun uses here
  tinygrad-cpu  tinygrad on its own CPU backend (C through clang-15), all cores
One model's rounds run one after the other, its runs alternating (in reverse
order every other round) so that the VM's drifts hit all alike, and its lines
are printed when they are done; each figure is the best of the rounds. clrun
trains an epoch to warm up and counts the epochs after it (history.csv); a peer
warms up with two batches (TinyJit replays from the third call) and times batches
until it has trained as many images as clrun counted or for 6 s. A run that
fails or passes the model's time limit is reported, not fatal; a peer whose
run took over two minutes is not run again for that model (slow peers are
measured once, at their first thread count). A peer that is not installed is
left out, saying why.

Printed: versions; the yardstick (yardstick.py: the cores' FP32 FMA peak,
OpenBLAS's SGEMM from numpy's wheel and clrun's GEMM table, measured together
before the runs); every run's images/s (progress on stderr); the fastest
PyTorch's 1024^3 product (1 and 2 threads, best of a measurement before the
runs and one after), for reference; then per model clrun against the best
anchor at its best thread count, clrun against tinygrad on the same OpenCL
device, and clrun's GFLOP/s (3x the forward FLOPs of convolutions and dense
layers) as a share of the FMA peak and of OpenBLAS's best SGEMM.

The inference row (workload.INFERENCE: ResNet-18 at 224 x 224, batch 64,
evaluation mode) times forward passes alone: clrun through `clrun features`
on a table of random PNGs (its rate over the batches after the first, from
the times its progress lines arrive), each anchor on the same pixels after
a batch of warm-up (two for tinygrad's TinyJit); its rounds and lines are the
training rows', and its summary gives the forward GFLOP/s. Then peak memory
(wait4's ru_maxrss) of clrun against the fastest and the leanest anchor, and
for LeNet and ResNet-18 the start-up: cold and warm against PyTorch's
(startup.py). Each clrun training run follows one batch run to warm the
kernel caches, so its peak memory is the training's, not the compiler's.

    bench/bench.py [--rounds 2] [--models lenet,mlp,...] [--peers torch-debian,...]
                   [--device SPEC] [--data fashion-mnist|mnist]

--data mnist trains the MNIST-shaped models on the bundled MNIST sample (at
most its 8,000 images an epoch), for machines without Debian's Fashion-MNIST
(bench/gpu-check); the CIFAR-shaped models always train on random records.
"""
import argparse
import collections
import csv
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no bench/__pycache__ in the source tree, here or in workers
import startup  # noqa: E402
import workload  # noqa: E402
import yardstick  # noqa: E402

ROOT = workload.ROOT
CLRUN = os.path.join(ROOT, "build", "clrun")
HERE = os.path.dirname(os.path.abspath(__file__))
VENV_PYTHON = os.path.join(ROOT, "build", "bench-venv", "bin", "python")
SLOW = 120            # seconds: a peer's run slower than this is not repeated
TRAIN_FACTOR = 3      # forward, and backward to the inputs and to the weights

# python: the interpreter; worker: the script it runs; threads: the counts
# tried, in order (None: the backend's own, a thread a core: POCL's pool, and
# tinygrad's CPU backend, which splits kernels over NUM_CPU_THREADS, the cores)
Peer = collections.namedtuple("Peer", "name python worker env threads probe")
TORCH_PROBE = "import torch; print('PyTorch', torch.__version__)"
TINYGRAD_PROBE = """from importlib.metadata import version
from tinygrad import Device, Tensor
assert (Tensor([1, 2]) * 2).tolist() == [2, 4]
d = Device[Device.DEFAULT]
print('tinygrad', version('tinygrad'), Device.DEFAULT, getattr(d, 'device_name', ''),
      getattr(d, 'driver_version', ''))"""


def clang():
    """tinygrad's CPU backend compiles with $CC, else `clang`: the Debian clang-15."""
    return shutil.which("clang-15") or "clang"


PEERS = [
    Peer("torch-debian", sys.executable, "peer_torch.py", {}, (1, 2), TORCH_PROBE),
    Peer("torch-pip", VENV_PYTHON, "peer_torch.py", {}, (1, 2), TORCH_PROBE),
    Peer("tinygrad-cl", VENV_PYTHON, "peer_tinygrad.py", {"DEV": "CL"}, (None,), TINYGRAD_PROBE),
    Peer("tinygrad-cpu", VENV_PYTHON, "peer_tinygrad.py", {"DEV": "CPU", "CC": clang()}, (None,),
         TINYGRAD_PROBE),
]


class RunError(Exception):
    pass


def run(cmd, limit, env=None):
    """stdout of cmd, within limit seconds; RunError saying why not."""
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=limit,
                             env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1", **(env or {})))
    except subprocess.TimeoutExpired:
        raise RunError("passed the time limit of %d s" % limit) from None
    except OSError as e:
        raise RunError(str(e)) from None
    if out.returncode != 0:
        lines = (out.stderr or out.stdout).strip().splitlines() or ["no output"]
        raise RunError("exit %d: %s" % (out.returncode, lines[-1][:160]))
    return out.stdout


# ---- peak resident memory ----

PEAKS = {}  # PEAKS[model][run label]: the largest peak RSS of its rounds, MiB
LAST_PEAK = [0.0]  # run_peak's last run's, MiB


def run_peak(cmd, limit, env=None):
    """run(), keeping the run's peak resident set size in LAST_PEAK: from
    wait4's rusage, the process itself (a worker's threads included, not its
    own children; neither clrun nor the workers start any)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        try:
            p = subprocess.Popen(cmd, stdout=out, stderr=err, text=True,
                                 env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1", **(env or {})))
        except OSError as e:
            raise RunError(str(e)) from None
        deadline = time.monotonic() + limit
        while True:
            pid, status, usage = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                p.kill()
                os.wait4(p.pid, 0)
                raise RunError("passed the time limit of %d s" % limit)
            time.sleep(0.05)
        p.returncode = os.waitstatus_to_exitcode(status)  # Popen must not wait for it again
        LAST_PEAK[0] = usage.ru_maxrss / 1024.0  # kilobytes on Linux
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if p.returncode != 0:
        lines = (stderr or stdout).strip().splitlines() or ["no output"]
        raise RunError("exit %d: %s" % (p.returncode, lines[-1][:160]))
    return stdout


def print_memory(names, best):
    """Per model: clrun's peak RSS, the fastest anchor's and the leanest
    anchor's, and clrun's over each."""
    print("\nPeak resident memory, MiB, the largest of the rounds (wait4's ru_maxrss)")
    print("%-14s %8s  %-16s %8s %7s  %-16s %8s %7s" % (
        "model", "clrun", "fastest anchor", "MiB", "clrun/", "leanest anchor", "MiB", "clrun/"))
    for n in names:
        peaks = PEAKS.get(n, {})
        ours = peaks.get("clrun")
        anchors = {k: v for k, v in best[n].items() if k != "clrun" and k in peaks}
        fast = max(anchors, key=anchors.get) if anchors else None
        lean = min(anchors, key=lambda k: peaks[k]) if anchors else None
        cells = []
        for a in (fast, lean):
            cells += [a or "none", "%.0f" % peaks[a] if a else "-",
                      "%.2fx" % (ours / peaks[a]) if a and ours else "-"]
        print("%-14s %8s  %-16s %8s %7s  %-16s %8s %7s" % (
            (n, "%.0f" % ours if ours else "-") + tuple(cells)))


# ---- clrun ----

def clrun_experiment(path, work, images, data):
    optim = ", ".join("%s: %s" % kv for kv in work.optimizer.items())
    dataset = "cifar10" if work.data == "cifar10" else workload.IDX_SETS[data][0]
    with open(path, "w") as f:
        f.write("model: %s\n" % os.path.join(ROOT, work.yaml))
        f.write("data: {dataset: %s, limit: %d}\n" % (dataset, images))
        f.write("optimizer: {%s}\n" % optim)
        f.write("loss: %s\n" % work.loss)
        f.write("train: {epochs: %d, batch_size: %d, seed: 1}\n" % (1 + work.epochs, work.batch))


def clrun_speed(work, images, args, cifar):
    """Training images/s of the epochs after the first, from history.csv."""
    with tempfile.TemporaryDirectory(prefix="clrun-bench-") as tmp:
        exp = os.path.join(tmp, "bench.yaml")
        clrun_experiment(exp, work, images, args.data)
        cmd = [CLRUN, "run", exp, "--out", os.path.join(tmp, "run")]
        if args.device:
            cmd += ["--device", args.device]
        # CIFAR-10 is looked for under $CLRUN_ROOT/data/cifar10
        env = {"CLRUN_ROOT": cifar} if work.data == "cifar10" else None
        # one batch first, so that the kernel caches are warm: POCL's compiles
        # at first launches hold LLVM's memory (up to about 150 MiB) and would
        # be this run's peak; start-up is measured on its own (startup.py)
        run(cmd[:3] + ["train.epochs=1", "data.limit=%d" % work.batch,
                       "--out", os.path.join(tmp, "warm")] + cmd[5:], work.limit, env)
        run_peak(cmd, work.limit, env)
        with open(os.path.join(tmp, "run", "history.csv")) as f:
            rows = list(csv.DictReader(f))[1:]
    return len(rows) * images / sum(images / float(r["images_per_s"]) for r in rows)


# ---- the anchors ----

def peer_speed(peer, threads, name, images, args, cifar):
    work = workload.MODELS[name]
    cmd = [peer.python, os.path.join(HERE, peer.worker), "--model", name, "--images",
           str(images), "--timed", str(images * work.epochs), "--data", args.data,
           "--cifar", cifar] + (["--threads", str(threads)] if threads else [])
    return float(run_peak(cmd, work.limit, peer.env).split()[0])


def probe(peer):
    """The peer's version line, or RunError saying why it cannot run."""
    if not os.path.exists(peer.python):
        raise RunError("not installed (%s is missing; bench/setup-venv makes it from the "
                       "Python package index)" % os.path.relpath(peer.python, ROOT))
    return run([peer.python, "-c", peer.probe], 120, peer.env).strip()


def gemm_peak(python, threads):
    return float(run([python, "-c", """
import time, torch
torch.set_num_threads(%d)
a, b = torch.rand(1024, 1024), torch.rand(1024, 1024)
best = 0
for _ in range(10):
    t = time.perf_counter(); c = a @ b; t = time.perf_counter() - t
    best = max(best, 2 * 1024 ** 3 / t / 1e9)
print(best)""" % threads], 120))


def check_architectures(names, inference=()):
    """The peers' networks (workload.py) against the YAML clrun trains: same parameters."""
    for n in list(names) + list(inference):
        work = workload.MODELS[n] if n in workload.MODELS else workload.INFERENCE[n]
        ours = workload.count(work.layers, work.input)[0]
        summary = run([CLRUN, "summary", os.path.join(ROOT, work.yaml)], 60).split()
        if int(summary[-1].replace(",", "")) != ours:  # "Total params: 21,840"
            sys.exit("bench: %s: workload.py's layers have %d parameters, clrun summary %s says "
                     "%s" % (n, ours, work.yaml, summary[-1]))


# ---- rounds ----

def jobs(peers):
    """(peer or None for clrun, threads) in the order of a round."""
    return [(None, None)] + [(p, t) for p in peers for t in p.threads]


def label(peer, threads):
    if peer is None:
        return "clrun"
    return peer.name + (" x%d" % threads if threads else "")


def measure(name, peers, args, cifar):
    """best[label] = images/s, notes[label] = why there is none: one model's rounds."""
    images = images_for(name, args.data)
    return rounds(name, peers, args,
                  lambda: clrun_speed(workload.MODELS[name], images, args, cifar),
                  lambda peer, threads: peer_speed(peer, threads, name, images, args, cifar))


def rounds(name, peers, args, clrun_run, peer_run):
    """measure's rounds, with clrun_run() and peer_run(peer, threads) giving images/s."""
    best, notes = {}, {}
    for r in range(args.rounds):
        for peer, threads in jobs(peers) if r % 2 == 0 else jobs(peers)[::-1]:
            key = label(peer, threads)
            if key in notes:
                continue
            started = time.perf_counter()
            try:
                speed = clrun_run() if peer is None else peer_run(peer, threads)
                best[key] = max(best.get(key, 0.0), speed)
                peaks = PEAKS.setdefault(name, {})
                peaks[key] = max(peaks.get(key, 0.0), LAST_PEAK[0])
                said = fmt(speed) + " img/s"
            except RunError as e:
                notes[key] = said = str(e)
            took = time.perf_counter() - started
            print("bench: %s, %s: %s in %.0f s" % (name, key, said, took), file=sys.stderr)
            if peer is not None and (key in notes or took > SLOW):
                skip_peer(notes, best, peer, key, took)
    return best, notes


def skip_peer(notes, best, peer, key, took):
    """After a failed or slow run, the peer's other thread counts and later
    rounds of this model are left out."""
    why = "failed" if key in notes else "took %.0f s" % took
    for t in peer.threads:
        other = label(peer, t)
        if other not in notes and other not in best:
            notes[other] = "not run: %s %s (slow or failing peers run once)" % (key, why)
        elif other in best:
            notes.setdefault(other, "measured once: the run took %.0f s" % took)


def images_for(name, data):
    work = workload.MODELS[name]
    images = work.images if work.data == "cifar10" else min(work.images,
                                                           workload.IDX_SETS[data][2])
    return images // work.batch * work.batch


# ---- inference ----

def clrun_infer_experiment(path, work, table):
    with open(path, "w") as f:
        f.write("model: %s\n" % os.path.join(ROOT, work.yaml))
        f.write("data: {dataset: table, table: %s, normalize: imagenet}\n" % table)
        f.write("optimizer: {name: sgd, learning_rate: 0.1}\nloss: cross_entropy\n")
        f.write("train: {epochs: 0, batch_size: %d, seed: 1}\n" % work.batch)


def progress_times(cmd, limit):
    """(seconds since start, images done) for each `Features: N/M images` line of
    cmd's output, as it arrives; RunError when cmd fails or passes limit s."""
    started, seen = time.perf_counter(), []
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    timer = threading.Timer(limit, proc.kill)
    timer.start()
    for line in proc.stdout:
        m = re.match(r"Features: ([\d,]+)/", line)
        if m:
            seen.append((time.perf_counter() - started, int(m.group(1).replace(",", ""))))
    err = proc.stderr.read()
    timer.cancel()
    if proc.wait() != 0:
        raise RunError("passed the time limit of %d s" % limit if proc.returncode < 0 else
                       "exit %d: %s" % (proc.returncode, (err.strip().splitlines() or
                                                          ["no output"])[-1][:160]))
    return seen


def clrun_infer_speed(name, args, folder):
    """Images/s of `clrun features` over the batches after the first."""
    work = workload.INFERENCE[name]
    with tempfile.TemporaryDirectory(prefix="clrun-bench-") as tmp:
        exp = os.path.join(tmp, "infer.yaml")
        clrun_infer_experiment(exp, work, os.path.join(folder, "images.csv"))
        device = ["--device", args.device] if args.device else []
        # the initial parameters as weights: a run that evaluates one image
        run([CLRUN, "run", exp, "data.limit=1", "--out", os.path.join(tmp, "w")] + device,
            work.limit)
        seen = progress_times([CLRUN, "features", exp, "--weights",
                               os.path.join(tmp, "w", "weights.safetensors"), "--layers",
                               work.layer, "--out", os.path.join(tmp, "f")] + device, work.limit)
    if len(seen) < 2 or seen[-1][1] != work.images:
        raise RunError("clrun features printed no progress past its first batch")
    (t0, n0), (t1, n1) = seen[0], seen[-1]
    return (n1 - n0) / (t1 - t0)


def peer_infer_speed(peer, threads, name, args):
    work = workload.INFERENCE[name]
    cmd = [peer.python, os.path.join(HERE, peer.worker), "--model", name, "--images",
           str(work.images), "--timed", str(work.images - work.batch)] + \
        (["--threads", str(threads)] if threads else [])
    return float(run(cmd, work.limit, peer.env).split()[0])


def measure_infer(name, peers, args, folder):
    return rounds(name, peers, args, lambda: clrun_infer_speed(name, args, folder),
                  lambda peer, threads: peer_infer_speed(peer, threads, name, args))


def print_infer_summary(names, best):
    print("\n%-20s %10s  %-16s %10s %10s %12s %14s" % (
        "inference", "clrun", "best anchor", "img/s", "clrun/best", "clrun/tg-cl",
        "forward GFLOP/s"))
    for n in names:
        work = workload.INFERENCE[n]
        clrun, tg = best[n].get("clrun"), best[n].get("tinygrad-cl")
        anchors = {k: v for k, v in best[n].items() if k != "clrun"}
        top = max(anchors, key=anchors.get) if anchors else None
        flops = workload.count(work.layers, work.input)[1]
        print("%-20s %10s  %-16s %10s %10s %12s %14s" % (
            n, fmt(clrun) if clrun else "failed", top or "none", fmt(anchors[top]) if top else "-",
            "%.2fx" % (clrun / anchors[top]) if clrun and top else "-",
            "%.2fx" % (clrun / tg) if clrun and tg else "-",
            "%.1f" % (clrun * flops / 1e9) if clrun else "-"))


def run_inference(names, peers, missing, args):
    """The inference rows: every name's rounds, its lines, and the summary."""
    if not names:
        return {}
    print("\nInference images/s (evaluation mode, batch %s), best of %d round%s" % (
        ", ".join(str(workload.INFERENCE[n].batch) for n in names), args.rounds,
        "s" if args.rounds > 1 else ""))
    best, notes = {}, {}
    with tempfile.TemporaryDirectory(prefix="clrun-bench-images-") as folder:
        for n in names:
            work = workload.INFERENCE[n]
            workload.write_image_table(folder, work.images, work.input)
            best[n], notes[n] = measure_infer(n, peers, args, folder)
            print_runs(n, peers, best[n], notes[n], missing)
    print_infer_summary(names, best)
    return notes


# ---- report ----

def versions(peers):
    """(the peers that can run, the names of those that cannot), printing each
    peer's version line or why it cannot run."""
    try:
        commit = run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], 10).strip()
    except RunError:
        commit = "(not a git checkout)"
    print("clrun %s on %s" % (commit, run([CLRUN, "devices"], 60).strip()))
    ready, missing = [], []
    for peer in peers:
        try:
            print("%-13s %s" % (peer.name, probe(peer)))
            ready.append(peer)
        except RunError as e:
            print("%-13s %s" % (peer.name, e))
            missing.append(peer.name)
    if "tinygrad-cpu" in [p.name for p in ready]:
        print("%-13s %s" % ("", run([clang(), "--version"], 10).splitlines()[0]))
    return ready, missing


def gemm_best(peers):
    """(GFLOP/s, where) of the fastest PyTorch here, 1 and 2 threads."""
    best = (0.0, "no PyTorch")
    for peer in peers:
        if peer.worker == "peer_torch.py":
            for t in (1, 2):
                best = max(best, (gemm_peak(peer.python, t), "%s x%d" % (peer.name, t)))
    return best


def fmt(speed):
    return "{:,.0f}".format(speed) if speed >= 100 else "%.1f" % speed


def train_gflops(name, speed):
    work = workload.MODELS[name]
    return speed * workload.count(work.layers, work.input)[1] * TRAIN_FACTOR / 1e9


def print_runs(name, peers, best, notes, missing):
    clrun = best.get("clrun")
    for peer, threads in jobs(peers):
        key = label(peer, threads)
        speed = best.get(key)
        ratio = "%7.2fx" % (clrun / speed) if clrun and speed and peer else ""
        figure = fmt(speed) if speed else "-"
        print(("%-14s %-16s %10s %8s  %s" % (name, key, figure, ratio, notes.get(key, ""))).rstrip())
    for peer in missing:
        print("%-14s %-16s %10s %8s  %s" % (name, peer, "-", "", "cannot run here (above)"))


def print_summary(names, best, yard):
    print("\n%-14s %10s  %-16s %10s %10s %12s %8s %8s %8s" % (
        "model", "clrun", "best anchor", "img/s", "clrun/best", "clrun/tg-cl", "GFLOP/s",
        "of peak", "of BLAS"))
    for n in names:
        clrun, tg = best[n].get("clrun"), best[n].get("tinygrad-cl")
        anchors = {k: v for k, v in best[n].items() if k != "clrun"}
        top = max(anchors, key=anchors.get) if anchors else None
        gflops = train_gflops(n, clrun) if clrun else 0
        print("%-14s %10s  %-16s %10s %10s %12s %8s %8s %8s" % (
            n, fmt(clrun) if clrun else "failed", top or "none", fmt(anchors[top]) if top else "-",
            "%.2fx" % (clrun / anchors[top]) if clrun and top else "-",
            "%.2fx" % (clrun / tg) if clrun and tg else "-",
            "%.1f" % gflops if clrun else "-",
            "%.1f%%" % (100 * gflops / yard.peak) if clrun and yard.peak else "-",
            "%.1f%%" % (100 * gflops / yard.blas) if clrun and yard.blas else "-"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--models", default=",".join(list(workload.MODELS) + list(workload.INFERENCE)))
    ap.add_argument("--peers", default=",".join(p.name for p in PEERS))
    ap.add_argument("--device", default=None, help="clrun's --device")
    ap.add_argument("--data", default="fashion-mnist", choices=sorted(workload.IDX_SETS))
    args = ap.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # each model's lines as it is done
    names, wanted = args.models.split(","), args.peers.split(",")
    inference = [n for n in names if n in workload.INFERENCE]
    names = [n for n in names if n not in workload.INFERENCE]
    for n in names:
        if n not in workload.MODELS:
            sys.exit("bench: unknown model %r (known: %s)" % (n, ", ".join(
                list(workload.MODELS) + list(workload.INFERENCE))))
    for w in wanted:
        if w not in [p.name for p in PEERS]:
            sys.exit("bench: unknown peer %r (known: %s)" % (w, ", ".join(p.name for p in PEERS)))
    started = time.perf_counter()
    check_architectures(names, inference)
    peers, missing = versions([p for p in PEERS if p.name in wanted])
    yard = yardstick.measure(VENV_PYTHON, args.device)
    print("\nThe yardstick, measured together (GFLOP/s over the wall clock, and over the CPU time "
          "the threads got: what the cores do when nothing else runs)")
    print("\n".join(yard.lines))
    before = gemm_best(peers)
    print("\nTraining images/s, best of %d round%s; clrun/: clrun's images/s over the run's" % (
        args.rounds, "s" if args.rounds > 1 else ""))
    print("%-14s %-16s %10s %8s" % ("model", "run", "img/s", "clrun/"))
    best, notes = {}, {}
    with tempfile.TemporaryDirectory(prefix="clrun-bench-cifar-") as cifar:
        workload.write_cifar(cifar, max((images_for(n, args.data) for n in names
                                         if workload.MODELS[n].data == "cifar10"), default=1))
        for n in names:
            best[n], notes[n] = measure(n, peers, args, cifar)
            print_runs(n, peers, best[n], notes[n], missing)
        startup.report(sys.modules[__name__], peers, names, args.rounds, cifar, args.device)
    peak, where = max(before, gemm_best(peers))
    print("\nThe fastest PyTorch's 1024^3 product (before and after the runs): %.1f GFLOP/s (%s), "
          "%s of the FMA peak" % (peak, where, yard.pct(peak)))
    print_summary(names, best, yard)
    print_memory(names, best)
    infer_notes = run_inference(inference, peers, missing, args)
    print("\nbench: %d round%s in %.1f min" % (args.rounds, "s" if args.rounds > 1 else "",
                                              (time.perf_counter() - started) / 60))
    if any("clrun" in notes[n] for n in names) or any("clrun" in v for v in infer_notes.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
