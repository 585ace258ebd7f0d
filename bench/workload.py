"""workload.py: what `make bench` trains, shared by bench.py and the peers' workers.

Each model is written once here, as a list of framework-neutral layers, from
which the PyTorch and tinygrad workers build their networks and bench.py
counts parameters (checked against `clrun summary` of the YAML clrun trains)
and forward FLOPs. The training images are read here too, as numpy arrays,
so every framework trains on the same pixels. Only numpy is needed.
"""
import argparse
import collections
import os
import struct
import sys
import time
import zlib

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import pyclrun  # noqa: E402  (read_idx)

# --data: clrun's dataset name, the IDX folder the peers read, the images there
IDX_SETS = {
    "fashion-mnist": ("fashion-mnist", "/usr/share/datasets/fashion-mnist", 60000),
    "mnist": ("mnist", os.path.join(ROOT, "data", "mnist-sample"), 8000),
}
CIFAR_FILES = ["data_batch_%d.bin" % i for i in range(1, 6)] + ["test_batch.bin"]
CIFAR_RECORD = 1 + 3 * 32 * 32  # a label byte, then the R, G and B planes


# ---- layers: tuples (kind, arguments...) ----

def conv(cin, cout, k, stride=1, pad=0, bias=True):
    return ("conv", cin, cout, k, stride, pad, bias)


def dense(n_in, n_out):
    return ("dense", n_in, n_out)


def basic_block(cin, cout, stride):
    """ResNet's basic block: relu(main(x) + shortcut(x)); an empty shortcut is x."""
    main = [conv(cin, cout, 3, stride, 1, False), ("bn", cout), ("relu",),
            conv(cout, cout, 3, 1, 1, False), ("bn", cout)]
    shortcut = [conv(cin, cout, 1, stride, 0, False), ("bn", cout)] \
        if stride != 1 or cin != cout else []
    return [("residual", main, shortcut), ("relu",)]


def resnet18():
    layers = [conv(3, 64, 3, 1, 1, False), ("bn", 64), ("relu",)]
    cin = 64
    for cout in (64, 128, 256, 512):
        layers += basic_block(cin, cout, 1 if cout == 64 else 2) + basic_block(cout, cout, 1)
        cin = cout
    return layers + [("avgpool", 4), ("flatten",), dense(512, 10)]


def resnet18_imagenet():
    """torchvision's resnet18: models/resnet18.yaml, for the inference row."""
    layers = [conv(3, 64, 7, 2, 3, False), ("bn", 64), ("relu",), ("maxpool", 3, 2, 1)]
    cin = 64
    for cout in (64, 128, 256, 512):
        layers += basic_block(cin, cout, 1 if cout == 64 else 2) + basic_block(cout, cout, 1)
        cin = cout
    return layers + [("global_avgpool",), ("flatten",), dense(512, 1000)]


LENET = [conv(1, 10, 5), ("maxpool", 2), ("relu",), conv(10, 20, 5), ("maxpool", 2), ("relu",),
         ("flatten",), dense(320, 50), ("relu",), dense(50, 10), ("log_softmax",)]
MLP = [("flatten",), dense(784, 256), ("relu",), dense(256, 10), ("log_softmax",)]
KERAS_CNN = [conv(1, 32, 3), ("relu",), conv(32, 64, 3), ("relu",), ("maxpool", 2), ("flatten",),
             dense(9216, 128), ("relu",), dense(128, 10), ("log_softmax",)]
KERAS_CIFAR10 = [conv(3, 32, 3, 1, 1), ("relu",), conv(32, 32, 3), ("relu",), ("maxpool", 2),
                 ("dropout", 0.25),
                 conv(32, 32, 3, 1, 1), ("relu",), conv(32, 32, 3), ("relu",), ("maxpool", 2),
                 ("dropout", 0.25), ("flatten",), dense(1152, 512), ("relu",), ("dropout", 0.5),
                 dense(512, 10), ("log_softmax",)]

SGD = {"name": "sgd", "learning_rate": 0.01}

# data: "idx" (bench.py's --data) or "cifar10" (random records bench.py writes);
# images: an epoch; epochs: how many clrun times after one to warm up (the
# peers time as many images at most); limit: seconds one run may take, start-up
# included. The timed part takes clrun a few seconds (ResNet-18: 384 images,
# 30-60 s) and keeps make bench's default two rounds near half an hour.
Workload = collections.namedtuple(
    "Workload", "yaml layers input data batch optimizer loss images epochs limit")
MODELS = {
    "lenet": Workload("models/lenet.yaml", LENET, (1, 28, 28), "idx", 64, SGD, "nll",
                      59904, 1, 180),
    "mlp": Workload("models/keras-mlp-relu.yaml", MLP, (1, 28, 28), "idx", 64, SGD, "nll",
                    59904, 5, 180),
    "keras-cnn": Workload("models/keras-cnn.yaml", KERAS_CNN, (1, 28, 28), "idx", 64, SGD, "nll",
                          5120, 1, 180),
    "keras-cifar10": Workload("models/keras-cifar10.yaml", KERAS_CIFAR10, (3, 32, 32), "cifar10",
                              32, {"name": "rmsprop", "learning_rate": 1e-4, "rho": 0.9,
                                   "epsilon": 1e-7}, "nll", 2048, 1, 180),
    "resnet18": Workload("models/resnet18-cifar.yaml", resnet18(), (3, 32, 32), "cifar10", 128,
                         {"name": "sgd", "learning_rate": 0.1, "momentum": 0.9,
                          "weight_decay": 5e-4}, "cross_entropy", 128, 3, 480),
}

# Inference (evaluation mode, no gradients) on random images of the input's
# size: clrun runs `clrun features` (the last layer's outputs) on a table of
# PNGs bench.py writes; the peers time forward passes of the same pixels.
# images: clrun's and each peer's, the first batch a warm-up; layer: the one
# clrun writes out; limit: seconds one run may take, start-up included.
Inference = collections.namedtuple("Inference", "yaml layers input batch images layer limit")
INFERENCE = {
    "resnet18-224-infer": Inference("models/resnet18.yaml", resnet18_imagenet(), (3, 224, 224),
                                    64, 256, "fc", 480),
}


# ---- counting ----

def count(layers, shape):
    """(parameters, forward FLOPs of convolutions and dense layers, output shape)
    of layers on one input of shape [C, H, W] or [F]."""
    params = flops = 0
    for layer in layers:
        kind = layer[0]
        if kind == "conv":
            _, cin, cout, k, stride, pad, bias = layer
            h, w = ((d + 2 * pad - k) // stride + 1 for d in shape[1:])
            params += cin * cout * k * k + (cout if bias else 0)
            flops += 2 * cin * k * k * cout * h * w
            shape = (cout, h, w)
        elif kind == "dense":
            params += layer[1] * layer[2] + layer[2]
            flops += 2 * layer[1] * layer[2]
            shape = (layer[2],)
        elif kind == "bn":
            params += 2 * layer[1]
        elif kind in ("maxpool", "avgpool"):
            k, stride, pad = (layer[1:] + (layer[1], 0))[:3]  # (k,): stride k, no padding
            shape = (shape[0],) + tuple((d + 2 * pad - k) // stride + 1 for d in shape[1:])
        elif kind == "global_avgpool":
            shape = (shape[0], 1, 1)
        elif kind == "flatten":
            shape = (int(np.prod(shape)),)
        elif kind == "residual":
            for path in layer[1:]:
                p, f, _ = count(path, shape)
                params, flops = params + p, flops + f
            shape = count(layer[1], shape)[2]
    return params, flops, shape


# ---- data ----

def write_cifar(folder, images, seed=1):
    """Random CIFAR-10 binary batches under folder/data/cifar10/cifar-10-batches-bin:
    the training images all in data_batch_1 (clrun reads the five batches in
    order and keeps the first data.limit), one record in each other file."""
    out = os.path.join(folder, "data", "cifar10", "cifar-10-batches-bin")
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(seed)
    for name in CIFAR_FILES:
        n = images if name == CIFAR_FILES[0] else 1
        records = rng.integers(0, 256, (n, CIFAR_RECORD), dtype=np.uint8)
        records[:, 0] %= 10
        records.tofile(os.path.join(out, name))


def read_cifar(folder, images):
    records = np.fromfile(os.path.join(folder, "data", "cifar10", "cifar-10-batches-bin",
                                       CIFAR_FILES[0]), dtype=np.uint8)
    records = records.reshape(-1, CIFAR_RECORD)[:images]
    return records[:, 1:].reshape(-1, 3, 32, 32), records[:, 0]


def read_images(work, data, cifar_folder, images):
    """(float32 [N, C, H, W] in [0, 1], int64 [N]): the first images of the set."""
    if work.data == "cifar10":
        pixels, labels = read_cifar(cifar_folder, images)
    else:
        folder = IDX_SETS[data][1]
        pixels = pyclrun.read_idx(os.path.join(folder, "train-images-idx3-ubyte.gz"), images)
        labels = pyclrun.read_idx(os.path.join(folder, "train-labels-idx1-ubyte.gz"), images)
        pixels = pixels[:, None]
    return pixels.astype(np.float32) / 255, labels.astype(np.int64)


def random_images(n, shape, seed=1):
    """n random images of shape [C, H, W] as uint8: the inference row's pixels."""
    return np.random.default_rng(seed).integers(0, 256, (n,) + tuple(shape), dtype=np.uint8)


def write_png(path, image):
    """An RGB image [3, H, W] of uint8 as a PNG file (numpy and zlib alone)."""
    _, h, w = image.shape
    rows = np.concatenate([np.zeros((h, 1), np.uint8), image.transpose(1, 2, 0).reshape(h, -1)],
                          axis=1)  # filter type 0 before each row

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + \
            struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
                chunk(b"IDAT", zlib.compress(rows.tobytes(), 1)) + chunk(b"IEND", b""))


def write_image_table(folder, n, shape):
    """folder/images.csv listing n random PNGs written beside it (random_images)."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "images.csv"), "w") as f:
        f.write("path\n")
        for i, image in enumerate(random_images(n, shape)):
            write_png(os.path.join(folder, "%04d.png" % i), image)
            f.write("%04d.png\n" % i)


# ---- the workers' side ----

WARMUP_BATCHES = 2  # TinyJit captures the second call and replays from the third
MIN_SECONDS = 6     # a slower peer stops timing after this, at the end of a batch


def worker_args():
    """What bench.py tells a worker: the model, threads, the images of an epoch,
    how many of them to time at most, and where the data is."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, choices=sorted(MODELS) + sorted(INFERENCE))
    ap.add_argument("--threads", type=int, default=1, help="PyTorch's threads")
    ap.add_argument("--images", type=int, required=True)
    ap.add_argument("--timed", type=int, required=True)
    ap.add_argument("--data", default="fashion-mnist", choices=sorted(IDX_SETS))
    ap.add_argument("--cifar", help="the folder bench.py wrote random CIFAR-10 batches into")
    return ap.parse_args()


def batch_orders(images, batch, seed=1):
    """Index arrays of batch images, epoch after epoch, each epoch shuffled."""
    rng = np.random.default_rng(seed)
    while True:
        order = rng.permutation(images)
        for start in range(0, images - batch + 1, batch):
            yield order[start:start + batch]


def report_speed(step, args, batch):
    """Prints training images/s and the images timed: step(indices) trains one
    batch and returns its loss, whose .item() waits for the device. With
    --timed 0 it trains one batch and prints nothing (startup.py times the
    process)."""
    batches = batch_orders(args.images, batch)
    if args.timed == 0:
        step(next(batches)).item()
        return
    for _ in range(WARMUP_BATCHES):
        loss = step(next(batches))
    loss.item()
    started, timed = time.perf_counter(), 0
    while timed < args.timed and (timed == 0 or time.perf_counter() - started < MIN_SECONDS):
        loss = step(next(batches))
        timed += batch
    loss.item()
    print("%.1f %d" % (timed / (time.perf_counter() - started), timed))


def report_inference(forward, args, batch):
    """Prints inference images/s and the images timed: forward(pixels) runs one
    batch of uint8 images [batch, C, H, W] and returns something whose
    .numpy() waits for the result. The first batch warms up (and, for
    tinygrad, the second: TinyJit captures it)."""
    pixels = random_images(args.images, INFERENCE[args.model].input)
    batches = [pixels[i:i + batch] for i in range(0, args.images - batch + 1, batch)]
    for b in batches[:WARMUP_BATCHES]:
        forward(b).numpy()
    started, timed = time.perf_counter(), 0
    for b in batches[1:]:  # a batch takes seconds: all of them, not MIN_SECONDS' worth
        if timed >= args.timed:
            break
        out = forward(b)
        timed += batch
    out.numpy()
    print("%.1f %d" % (timed / (time.perf_counter() - started), timed))
