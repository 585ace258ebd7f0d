"""pyclrun: a clrun run directory from Python, and what clrun's Python tools share.

    import sys; sys.path.insert(0, "tools")      # from the repository root
    import pyclrun
    w = pyclrun.read_safetensors("runs/quickstart/weights.safetensors")
    w["fc1.weight"].shape                          # (50, 320): PyTorch's names and layouts
    sd = pyclrun.state_dict("runs/quickstart/weights.safetensors")  # torch tensors
    model.load_state_dict(sd)                      # a torch.nn.Module of the same layers
    rows = pyclrun.history("runs/quickstart")      # [{'epoch': 1, 'loss': 0.93, ...}, ...]
    f = pyclrun.load_npy("runs/x", "features_fc1_test")      # float32 (.npy optional)
    y = pyclrun.load_npy("runs/x", "labels_test.npy")        # int64, as torch's losses want
    x, rows = pyclrun.features("runs/x/features")  # clrun features: {layer: [images, units]},
    x["layer4.1"].shape, rows[0]["category"]       # and the row table's records, in row order

Only numpy is needed (torch for state_dict alone). Safetensors files are read
and written by hand (Debian has no safetensors package), in the layout clrun
reads and writes; the bundled MNIST sample loads as numpy arrays."""
import csv
import gzip
import json
import os
import struct
import sys

try:
    import numpy as np
except ImportError:  # say what is missing, not only where the import failed
    raise ImportError("pyclrun needs numpy, which this python (%s) lacks: apt-get install "
                      "python3-numpy, or pip install numpy" % sys.executable) from None

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE = os.path.join(ROOT, "data", "mnist-sample")


def read_idx(path, count=None):
    """An IDX file (gzipped) as a uint8 array [items, ...], the first count items."""
    with gzip.open(path, "rb") as f:
        magic, items = struct.unpack(">II", f.read(8))
        if magic >> 8 != 0x08:
            raise ValueError("%s: not an unsigned-byte IDX file" % path)
        dims = list(struct.unpack(">%dI" % ((magic & 0xFF) - 1), f.read(4 * ((magic & 0xFF) - 1))))
        n = items if count is None else min(count, items)
        size = int(np.prod(dims, dtype=np.int64)) if dims else 1
        data = np.frombuffer(f.read(n * size), dtype=np.uint8)
    return data.reshape([n] + dims)


def mnist_sample(split):
    """(images uint8 [n, 28, 28], labels int64 [n]) of "train" or "t10k"."""
    images = read_idx(os.path.join(SAMPLE, split + "-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(SAMPLE, split + "-labels-idx1-ubyte.gz"))
    return images, labels.astype(np.int64)


def write_safetensors(path, tensors, generator):
    """tensors: [(name, numpy array)] in file order; int64 -> I64, else F32."""
    header, blobs, offset = {}, [], 0
    for name, a in tensors:
        dtype, blob = ("I64", a.astype("<i8").tobytes()) if a.dtype == np.int64 else \
                      ("F32", a.astype("<f4").tobytes())
        header[name] = {"dtype": dtype, "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    header["__metadata__"] = {"format": "pt", "generator": generator}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    os.replace(tmp, path)


def read_safetensors(path):
    """{name: numpy array} of an F32/I64 safetensors file."""
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        data = f.read()
    kinds = {"F32": "<f4", "I64": "<i8", "F64": "<f8"}
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        out[name] = np.frombuffer(data[begin:end], dtype=kinds[info["dtype"]]).reshape(info["shape"])
    return out


def state_dict(path):
    """The weights as a PyTorch state_dict (an OrderedDict of tensors); needs torch."""
    import collections

    import torch
    return collections.OrderedDict((name, torch.from_numpy(a.copy()))
                                   for name, a in read_safetensors(path).items())


def history(run_dir):
    """history.csv as records: the epoch an int, the rest floats, None where NA."""
    def value(key, text):
        if text == "NA":
            return None
        return int(text) if key == "epoch" else float(text)
    with open(os.path.join(run_dir, "history.csv"), newline="") as f:
        return [{k: value(k, v) for k, v in row.items()} for row in csv.DictReader(f)]


def load_npy(run_dir, name):
    """An analysis output of the run (features, labels, RDMs, masks) as a numpy array;
    name with or without .npy ("features_fc1_test" or "features_fc1_test.npy")."""
    if not name.endswith(".npy"):
        name += ".npy"
    return np.load(os.path.join(run_dir, name))


def features(folder, mmap=False):
    """What `clrun features` wrote into folder: ({layer: float32 array [images, units]}, rows),
    rows being the records of images.csv beside them (column -> text), one per array row, in
    order. mmap=True maps the arrays instead of reading them (conv1 of ResNet-18 on thousands
    of images does not fit in memory)."""
    arrays = {name[:-4]: np.load(os.path.join(folder, name), mmap_mode="r" if mmap else None)
              for name in sorted(os.listdir(folder)) if name.endswith(".npy")}
    with open(os.path.join(folder, "images.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    return arrays, rows
