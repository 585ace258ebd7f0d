"""peer_tinygrad.py: one tinygrad training run for bench.py (build/bench-venv's Python).

    DEV=CL build/bench-venv/bin/python bench/peer_tinygrad.py --model lenet --images 4096 --timed 4096

The device comes from tinygrad's own DEV variable: bench.py sets DEV=CL for
its OpenCL backend (the first OpenCL device: POCL here), DEV=CPU for its CPU
backend, which compiles C with $CC.
Builds the model from workload.py's layers and trains it as tinygrad's
examples do: the whole step (forward, loss, backward, optimizer) under one
TinyJit, batches cut on the host (indexing a device tensor by a tensor of
indices costs tinygrad a pass over the whole set). Prints training images/s
and the images timed (workload.report_speed); for workload.INFERENCE's models
forward passes alone (workload.report_inference).
"""
from tinygrad import Context, Tensor, TinyJit, nn
from tinygrad.nn.optim import SGD, Optimizer

import workload


class RMSprop(Optimizer):
    """tinygrad has no RMSprop: Keras' and PyTorch's (eps outside the root,
    no momentum), as clrun's rmsprop_step has it."""

    def __init__(self, params, lr, rho, eps):
        super().__init__(params, lr)
        self.rho, self.eps = rho, eps
        self.v = self._new_optim_param()

    def _step(self, params, grads):
        updates = []
        for v, t, g in zip(self.v, params, grads):
            v.assign(self.rho * v + (1 - self.rho) * g * g)
            updates.append((self.lr * g / (v.sqrt() + self.eps)).cast(t.dtype))
        return updates, self.v


class Residual:
    def __init__(self, main, shortcut):
        self.main, self.shortcut = build(main), build(shortcut)

    def __call__(self, x):
        return x.sequential(self.main) + x.sequential(self.shortcut)


BUILD = {
    "conv": lambda cin, cout, k, stride, pad, bias: nn.Conv2d(cin, cout, k, stride, pad, bias=bias),
    "dense": nn.Linear,
    "bn": nn.BatchNorm,
    "relu": lambda: Tensor.relu,
    "maxpool": lambda k, stride=None, pad=0: lambda x: x.max_pool2d((k, k), stride or k,
                                                                       padding=pad),
    "global_avgpool": lambda: lambda x: x.mean((2, 3), keepdim=True),
    "avgpool": lambda k: lambda x: x.avg_pool2d((k, k)),
    "dropout": lambda p: lambda x: x.dropout(p),
    "flatten": lambda: lambda x: x.flatten(1),
    "log_softmax": lambda: lambda x: x.log_softmax(1),
    "residual": Residual,
}


def build(layers):
    return [BUILD[layer[0]](*layer[1:]) for layer in layers]


def optimizer(spec, params):
    if spec["name"] == "rmsprop":
        return RMSprop(params, spec["learning_rate"], spec["rho"], spec["epsilon"])
    return SGD(params, spec["learning_rate"], momentum=spec.get("momentum", 0),
               weight_decay=spec.get("weight_decay", 0))


def inference(args):
    """Forward passes alone under one TinyJit, batchnorm with its running statistics."""
    work = workload.INFERENCE[args.model]
    layers = build(work.layers)

    @TinyJit
    @Context(TRAINING=0)
    def forward(x):
        return (x.float() / 255).sequential(layers).realize()

    workload.report_inference(lambda pixels: forward(Tensor(pixels)), args, work.batch)


def main():
    args = workload.worker_args()
    if args.model in workload.INFERENCE:
        return inference(args)
    work = workload.MODELS[args.model]
    Tensor.manual_seed(1)
    pixels, labels = workload.read_images(work, args.data, args.cifar, args.images)
    layers = build(work.layers)
    opt = optimizer(work.optimizer, nn.state.get_parameters(layers))

    @TinyJit
    @Context(TRAINING=1)
    def train(x, y):
        opt.zero_grad()
        out = x.sequential(layers)
        loss = out.nll_loss(y) if work.loss == "nll" else out.cross_entropy(y)
        loss.backward()
        return loss.realize(*opt.schedule_step())

    workload.report_speed(lambda i: train(Tensor(pixels[i]), Tensor(labels[i])), args, work.batch)


if __name__ == "__main__":
    main()
