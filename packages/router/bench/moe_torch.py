# PyTorch side of bench/moe_layer.mjs: the MoE layer (top-k router, training mode) and a dense MLP of the same
# width, written plainly in torch at the shapes moevl's MoELayer runs, timed forward+backward inside Python.
# Server protocol (one request per line on stdin): "moe E K" or "dense"; reply: seconds, or "err <message>".
import math
import sys
import time

import torch
import torch.nn.functional as F

S, D, H, CF = 2048, 256, 1024, 1.25


def capacity(tokens, experts, k, cf, multiple_of=4):
    c = math.ceil(k * tokens * cf / experts - 1e-9)
    return max(multiple_of, -(-c // multiple_of) * multiple_of)


def cv_squared(v):
    return v.var(unbiased=False) / (v.mean() ** 2 + 1e-10)


class TopKMoE(torch.nn.Module):
    """V-MoE's noisy top-k router with Batch Priority Routing, capacity, dispatch into [E, C, D], the batched
    expert MLP (GELU) and the combine; importance and load losses (weights 0.005), as moevl's MoELayer."""

    def __init__(self, d, h, e, k, cf, g):
        super().__init__()
        self.e, self.k, self.cf = e, k, cf
        self.gate = torch.nn.Parameter(torch.randn(d, e, generator=g) / math.sqrt(d))
        l1, l2 = math.sqrt(6 / (d + h)), math.sqrt(6 / (h + d))
        self.w1 = torch.nn.Parameter((torch.rand(e, d, h, generator=g) * 2 - 1) * l1)
        self.b1 = torch.nn.Parameter(torch.zeros(e, 1, h))
        self.w2 = torch.nn.Parameter((torch.rand(e, h, d, generator=g) * 2 - 1) * l2)
        self.b2 = torch.nn.Parameter(torch.zeros(e, 1, d))

    def forward(self, x, mask=None):
        s, d = x.shape
        e, k = self.e, self.k
        c = capacity(s, e, k, self.cf)
        logits = x @ self.gate
        gates = logits.softmax(-1)
        sigma = 1.0 / e
        noisy = logits + torch.randn_like(logits) * sigma
        route = noisy.softmax(-1)
        top_v, top_i = route.topk(k, dim=-1)
        # Batch Priority Routing: slots are claimed by descending top-1 gate, K-major.
        priority = top_v[:, 0].detach()
        if mask is not None:
            priority = torch.where(mask > 0, priority, torch.full_like(priority, -1.0))
        order = torch.sort(priority, descending=True, stable=True).indices
        idx = top_i[order].t().reshape(-1)  # [K*S], K-major
        onehot = F.one_hot(idx, e)
        pos = ((torch.cumsum(onehot, 0) - 1) * onehot).sum(-1).reshape(k, s).t()  # [S, K], priority order
        position = torch.empty_like(pos)
        position[order] = pos
        keep = position < c
        if mask is not None:
            keep &= (mask > 0)[:, None]
        slot = top_i * c + position  # [S, K]
        tok = torch.arange(s).unsqueeze(1).expand(s, k)
        ks, kt = slot[keep], tok[keep]
        buffers = x.new_zeros(e * c, d).index_put((ks,), x[kt])
        hdn = F.gelu(torch.baddbmm(self.b1, buffers.view(e, c, d), self.w1))
        out = torch.baddbmm(self.b2, hdn, self.w2).view(e * c, d)
        w = top_v[keep].unsqueeze(1)
        y = x.new_zeros(s, d).index_add(0, kt, out[ks] * w)
        m = mask if mask is not None else x.new_ones(s)
        importance = cv_squared((gates * m[:, None]).sum(0))
        threshold = noisy.gather(1, noisy.topk(k, dim=-1).indices[:, k - 1 :])
        p = 0.5 * torch.erfc((threshold - logits) / sigma / math.sqrt(2))
        load = cv_squared((p * m[:, None]).sum(0) / m.sum().clamp(min=1))
        return y, {"importance": 0.005 * importance, "load": 0.005 * load}, gates


class MLP(torch.nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.fc1, self.fc2 = torch.nn.Linear(d, h), torch.nn.Linear(h, d)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


def moe_step(layer, x):
    def run():
        y, aux, _ = layer(x)
        loss = (y * y).mean() + sum(aux.values())
        layer.zero_grad(set_to_none=True)
        loss.backward()

    return run


def dense_step(layer, x):
    def run():
        y = layer(x)
        layer.zero_grad(set_to_none=True)
        (y * y).mean().backward()

    return run


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else torch.get_num_threads()
    torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(S, D, generator=g)
    cache = {}
    print(f"ready torch {torch.__version__}, {torch.get_num_threads()} threads", flush=True)
    for line in sys.stdin:
        try:
            key = line.split()
            if tuple(key) not in cache:
                if key[0] == "moe":
                    fn = moe_step(TopKMoE(D, H, int(key[1]), int(key[2]), CF, g), x)
                else:
                    fn = dense_step(MLP(D, H), x)
                fn()  # warm-up
                cache[tuple(key)] = fn
            fn = cache[tuple(key)]
            t0 = time.perf_counter()
            fn()
            print(time.perf_counter() - t0, flush=True)
        except Exception as e:  # noqa: BLE001 - report any failure to the caller
            print(f"err {e}", flush=True)


if __name__ == "__main__":
    main()
