#!/usr/bin/python3
"""bench.py: clrun's training speed against PyTorch's on this machine (`make bench`).

For each model (the seeds' LeNet, the 784-256-10 ReLU MLP and the Keras CNN of
VARIANTS.md) it trains with batch 64 and plain SGD (lr 0.01) on the same
Fashion-MNIST images (Debian's dataset-fashion-mnist) in clrun and in PyTorch
(Debian's python3-torch, with 1 and with 2 threads), alternating the three
several times, and prints training images/s for each (the best of the
rounds), the ratio clrun / PyTorch (PyTorch's better thread count), and
clrun's effective GFLOP/s against the single-precision GEMM peak PyTorch
measures here (a 1024x1024 matrix product, best of 1 and 2 threads).

A run trains two epochs of the images and counts the second, so one-time costs
(kernel compilation, first-touch allocation) stay out of the figures; only
training is timed, not evaluation. The same script runs on a GPU machine,
where PyTorch uses CUDA when it can.

    bench/bench.py [--rounds 3] [--models lenet,mlp,keras-cnn] [--device SPEC]
                   [--data fashion-mnist|mnist]

--data mnist trains on the bundled MNIST sample (data/mnist-sample, at most its
8,000 images an epoch) instead, for machines without Debian's Fashion-MNIST
(bench/gpu-check on a lent GPU machine).
"""
import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLRUN = os.path.join(ROOT, "build", "clrun")
# --data: clrun's dataset name, the IDX folder PyTorch reads, the images there
DATASETS = {
    "fashion-mnist": ("fashion-mnist", "/usr/share/datasets/fashion-mnist", 60000),
    "mnist": ("mnist", os.path.join(ROOT, "data", "mnist-sample"), 8000),
}
BATCH = 64

# name: (model file, images per epoch, forward FLOPs per image)
MODELS = {
    "lenet": ("models/lenet.yaml", 8192,
              2 * (25 * 10 * 24 * 24 + 250 * 20 * 8 * 8 + 320 * 50 + 50 * 10)),
    "mlp": ("models/keras-mlp-relu.yaml", 32768, 2 * (784 * 256 + 256 * 10)),
    "keras-cnn": ("models/keras-cnn.yaml", 1024,
                  2 * (9 * 32 * 26 * 26 + 288 * 64 * 24 * 24 + 9216 * 128 + 128 * 10)),
}
TRAIN_FACTOR = 3  # forward, and backward to the inputs and to the weights


def clrun_images_per_s(model, images, device, data):
    """The second epoch's training images/s, from history.csv."""
    with tempfile.TemporaryDirectory(prefix="clrun-bench-") as tmp:
        exp = os.path.join(tmp, "bench.yaml")
        with open(exp, "w") as f:
            f.write("model: %s\n" % os.path.join(ROOT, model))
            f.write("data: {dataset: %s, limit: %d}\n" % (DATASETS[data][0], images))
            f.write("optimizer: {name: sgd, learning_rate: 0.01}\n")
            f.write("loss: nll\ntrain: {epochs: 2, batch_size: %d, seed: 1}\n" % BATCH)
        cmd = [CLRUN, "run", exp, "--out", os.path.join(tmp, "run")]
        if device:
            cmd += ["--device", device]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(tmp, "run", "history.csv")) as f:
            rows = list(csv.DictReader(f))
    return float(rows[-1]["images_per_s"])


def torch_images_per_s(name, images, threads, data):
    """The same in PyTorch, in a fresh process with its own thread count."""
    out = subprocess.run([sys.executable, __file__, "--torch", name, "--threads", str(threads),
                          "--images", str(images), "--data", data], check=True,
                         capture_output=True, text=True)
    return float(out.stdout.split()[-1])


def torch_worker(name, images, threads, data):
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import pyclrun

    torch.set_num_threads(threads)
    torch.manual_seed(1)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    folder = DATASETS[data][1]
    pixels = pyclrun.read_idx(os.path.join(folder, "train-images-idx3-ubyte.gz"), images)
    labels = pyclrun.read_idx(os.path.join(folder, "train-labels-idx1-ubyte.gz"), images)
    x = torch.from_numpy(pixels.astype(np.float32) / 255).unsqueeze(1).to(device)
    y = torch.from_numpy(labels.astype(np.int64)).to(device)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            if name == "lenet":
                self.convs = nn.ModuleList([nn.Conv2d(1, 10, 5), nn.Conv2d(10, 20, 5)])
                self.fcs = nn.ModuleList([nn.Linear(320, 50), nn.Linear(50, 10)])
            elif name == "mlp":
                self.convs = nn.ModuleList()
                self.fcs = nn.ModuleList([nn.Linear(784, 256), nn.Linear(256, 10)])
            else:
                self.convs = nn.ModuleList([nn.Conv2d(1, 32, 3), nn.Conv2d(32, 64, 3)])
                self.fcs = nn.ModuleList([nn.Linear(9216, 128), nn.Linear(128, 10)])

        def forward(self, v):
            if name == "lenet":
                v = F.relu(F.max_pool2d(self.convs[0](v), 2))
                v = F.relu(F.max_pool2d(self.convs[1](v), 2))
            elif name == "keras-cnn":
                v = F.max_pool2d(F.relu(self.convs[1](F.relu(self.convs[0](v)))), 2)
            v = F.relu(self.fcs[0](torch.flatten(v, 1)))
            return F.log_softmax(self.fcs[1](v), dim=1)

    net = Net().to(device)
    opt = torch.optim.SGD(net.parameters(), lr=0.01)

    def epoch():
        order = torch.randperm(images, device=device)
        for start in range(0, images, BATCH):
            batch = order[start:start + BATCH]
            opt.zero_grad()
            F.nll_loss(net(x[batch]), y[batch]).backward()
            opt.step()
        if device == "cuda":
            torch.cuda.synchronize()

    epoch()
    started = time.perf_counter()
    epoch()
    print("%.1f" % (images / (time.perf_counter() - started)))


def gemm_peak(threads):
    out = subprocess.run([sys.executable, "-c", """
import time, torch
torch.set_num_threads(%d)
a, b = torch.rand(1024, 1024), torch.rand(1024, 1024)
best = 0
for _ in range(10):
    t = time.perf_counter(); c = a @ b; t = time.perf_counter() - t
    best = max(best, 2 * 1024 ** 3 / t / 1e9)
print(best)""" % threads], check=True, capture_output=True, text=True)
    return float(out.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--models", default="lenet,mlp,keras-cnn")
    ap.add_argument("--device", default=None, help="clrun's --device")
    ap.add_argument("--data", default="fashion-mnist", choices=sorted(DATASETS))
    ap.add_argument("--torch", help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--images", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.torch:
        return torch_worker(args.torch, args.images, args.threads, args.data)
    names = args.models.split(",")
    for n in names:
        if n not in MODELS:
            sys.exit("bench: unknown model %r (known: %s)" % (n, ", ".join(MODELS)))
    peak = max(gemm_peak(1), gemm_peak(2))
    print("Single-precision GEMM peak here (PyTorch, 1024x1024, best of 1 and 2 threads): "
          "%.1f GFLOP/s" % peak)
    best = {n: {"clrun": 0.0, "torch1": 0.0, "torch2": 0.0} for n in names}
    for r in range(args.rounds):
        for n in names:
            model, images, _ = MODELS[n]
            images = min(images, DATASETS[args.data][2]) // BATCH * BATCH
            best[n]["clrun"] = max(best[n]["clrun"],
                                   clrun_images_per_s(model, images, args.device, args.data))
            best[n]["torch1"] = max(best[n]["torch1"], torch_images_per_s(n, images, 1, args.data))
            best[n]["torch2"] = max(best[n]["torch2"], torch_images_per_s(n, images, 2, args.data))
        print("round %d of %d done" % (r + 1, args.rounds), file=sys.stderr)
    print("%-10s %12s %14s %14s %8s %10s %8s" % ("model", "clrun img/s", "torch 1 thr",
                                                "torch 2 thr", "ratio", "GFLOP/s", "of peak"))
    for n in names:
        b = best[n]
        torch_best = max(b["torch1"], b["torch2"])
        gflops = b["clrun"] * MODELS[n][2] * TRAIN_FACTOR / 1e9
        print("%-10s %12.0f %14.0f %14.0f %7.2fx %10.1f %7.1f%%" % (
            n, b["clrun"], b["torch1"], b["torch2"], b["clrun"] / torch_best, gflops,
            100 * gflops / peak))


if __name__ == "__main__":
    main()
