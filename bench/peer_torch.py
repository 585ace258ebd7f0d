"""peer_torch.py: one PyTorch training run for bench.py, under whichever Python runs it
(Debian's with python3-torch, or build/bench-venv's with the current release), or
one inference run (workload.INFERENCE: evaluation mode, no gradients).

    python3 bench/peer_torch.py --model resnet18 --threads 2 --images 128 --timed 384 --cifar DIR

Builds the model from workload.py's layers, trains it as clrun does (forward,
loss, backward, optimizer step a batch) and prints training images/s and the
images timed (workload.report_speed). Uses
CUDA where this PyTorch has it (bench/gpu-check), else the CPU.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

import workload


class Residual(nn.Module):
    def __init__(self, main, shortcut):
        super().__init__()
        self.main, self.shortcut = nn.Sequential(*main), nn.Sequential(*shortcut)

    def forward(self, x):
        return self.main(x) + self.shortcut(x)  # an empty Sequential passes x on


BUILD = {
    "conv": lambda cin, cout, k, stride, pad, bias: nn.Conv2d(cin, cout, k, stride, pad, bias=bias),
    "dense": nn.Linear,
    "bn": nn.BatchNorm2d,
    "relu": nn.ReLU,
    "maxpool": nn.MaxPool2d,
    "global_avgpool": lambda: nn.AdaptiveAvgPool2d(1),
    "avgpool": nn.AvgPool2d,
    "dropout": nn.Dropout,
    "flatten": nn.Flatten,
    "log_softmax": lambda: nn.LogSoftmax(dim=1),
    "residual": lambda main, shortcut: Residual(build(main), build(shortcut)),
}


def build(layers):
    return [BUILD[layer[0]](*layer[1:]) for layer in layers]


def optimizer(spec, params):
    if spec["name"] == "rmsprop":
        return torch.optim.RMSprop(params, lr=spec["learning_rate"], alpha=spec["rho"],
                                   eps=spec["epsilon"])
    return torch.optim.SGD(params, lr=spec["learning_rate"], momentum=spec.get("momentum", 0),
                           weight_decay=spec.get("weight_decay", 0))


def inference(args, device):
    """Evaluation mode under torch.inference_mode: forward passes alone."""
    work = workload.INFERENCE[args.model]
    net = nn.Sequential(*build(work.layers)).to(device).eval()

    def forward(pixels):
        with torch.inference_mode():
            return net(torch.from_numpy(pixels).to(device).float().div_(255)).cpu()

    workload.report_inference(forward, args, work.batch)


def main():
    args = workload.worker_args()
    if args.model in workload.INFERENCE:
        torch.set_num_threads(args.threads)
        return inference(args, "cuda" if torch.cuda.is_available() else "cpu")
    work = workload.MODELS[args.model]
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    pixels, labels = workload.read_images(work, args.data, args.cifar, args.images)
    x, y = torch.from_numpy(pixels).to(device), torch.from_numpy(labels).to(device)
    net = nn.Sequential(*build(work.layers)).to(device).train()
    opt = optimizer(work.optimizer, net.parameters())
    loss_fn = F.nll_loss if work.loss == "nll" else F.cross_entropy

    def step(indices):
        batch = torch.from_numpy(indices).to(device)
        opt.zero_grad()
        loss = loss_fn(net(x[batch]), y[batch])
        loss.backward()
        opt.step()
        return loss

    workload.report_speed(step, args, work.batch)


if __name__ == "__main__":
    main()
