# PyTorch side of bench/train_step.mjs: one training step (forward, backward, global-norm clipping, AdamW) of
# a compact re-implementation of the shipped LIMoE configuration and of its dense baseline, at the same
# shapes: 16 image patch tokens (28x28 grayscale, patch 7) and 24 text tokens packed into one sequence with a
# block-diagonal attention mask and the text key-padding mask, dim 128, depth 4, 4 heads, MLP ratio 2; for
# LIMoE, top-1 MoE MLPs (8 experts, cf 1.05, noise, Batch Priority Routing, importance/load losses and
# per-modality local/global entropy losses) in blocks 1 and 3; CLIP loss with same-class positives.
# Server protocol (one request per line on stdin): "limoe" or "dense"; reply: the seconds one step took
# (timed here), or "err <message>". The batch comes from the first line of stdin as JSON (written by the
# Node side, so both frameworks see the same tokens).
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "router", "bench"))
from moe_torch import TopKMoE  # noqa: E402

DIM, DEPTH, HEADS, RATIO, EMBED, PATCH, EXPERTS, CF = 128, 4, 4, 2, 128, 7, 8, 1.05
MASKED = -1e9


def entropy(p):
    return -(p * torch.log(p.clamp(min=1e-30))).sum(-1)


class Block(torch.nn.Module):
    def __init__(self, moe, g):
        super().__init__()
        self.ln1, self.ln2 = torch.nn.LayerNorm(DIM, eps=1e-6), torch.nn.LayerNorm(DIM, eps=1e-6)
        self.qkv, self.out = torch.nn.Linear(DIM, 3 * DIM), torch.nn.Linear(DIM, DIM)
        h = RATIO * DIM
        if moe:
            self.moe = TopKMoE(DIM, h, EXPERTS, 1, CF, g)
        else:
            self.moe = None
            self.fc1, self.fc2 = torch.nn.Linear(DIM, h), torch.nn.Linear(h, DIM)

    def forward(self, x, bias, mask, modality):
        b, t, d = x.shape
        hd = d // HEADS
        q, k, v = self.qkv(self.ln1(x)).view(b, t, 3, HEADS, hd).permute(2, 0, 3, 1, 4)
        scores = q @ k.transpose(-1, -2) / math.sqrt(hd) + bias
        ctx = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.out(ctx)
        y = self.ln2(x)
        aux = {}
        if self.moe is None:
            y = self.fc2(F.gelu(self.fc1(y)))
        else:
            flat, m = y.reshape(b * t, d), mask.reshape(-1)
            y, aux, gates = self.moe(flat, m)
            for i in range(2):  # LIMoE's per-modality entropy losses (weights 0.01, threshold ln 4)
                mi = m * (modality == i).float()
                n = mi.sum().clamp(min=1)
                aux[f"local{i}"] = 0.01 * (entropy(gates) * mi).sum() / n
                marginal = (gates * mi[:, None]).sum(0) / n
                aux[f"global{i}"] = 0.01 * F.relu(math.log(4) - entropy(marginal))
            y = y.view(b, t, d)
        return x + y, aux


class LIMoE(torch.nn.Module):
    def __init__(self, moe, vocab, length, g):
        super().__init__()
        n = (28 // PATCH) ** 2
        self.patch = torch.nn.Linear(PATCH * PATCH, DIM)
        self.image_position = torch.nn.Parameter(torch.randn(1, n, DIM, generator=g) * 0.02)
        self.tokens = torch.nn.Embedding(vocab, DIM)
        self.text_position = torch.nn.Parameter(torch.randn(1, length, DIM, generator=g) * 0.01)
        self.blocks = torch.nn.ModuleList([Block(moe and i % 2 == 1, g) for i in range(DEPTH)])
        self.image_norm, self.text_norm = torch.nn.LayerNorm(DIM, eps=1e-6), torch.nn.LayerNorm(DIM, eps=1e-6)
        self.image_projection = torch.nn.Linear(DIM, EMBED, bias=False)
        self.text_projection = torch.nn.Linear(DIM, EMBED, bias=False)
        self.logit_scale = torch.nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def forward(self, images, ids, text_mask, eot, labels):
        b = images.shape[0]
        p = PATCH
        patches = images.view(b, 1, 4, p, 4, p).permute(0, 2, 4, 1, 3, 5).reshape(b, 16, p * p)
        x = torch.cat([self.patch(patches) + self.image_position, self.tokens(ids) + self.text_position], 1)
        n, t = 16, x.shape[1]
        mask = torch.cat([torch.ones(b, n), text_mask], 1)
        same = (torch.arange(t) < n)[:, None] == (torch.arange(t) < n)[None, :]
        bias = (1 - same.float()) * MASKED + ((1 - mask) * MASKED)[:, None, None, :]
        modality = torch.cat([torch.zeros(b, n, dtype=torch.long), torch.ones(b, t - n, dtype=torch.long)], 1)
        modality = modality.reshape(-1)
        aux = []
        for blk in self.blocks:
            x, a = blk(x, bias, mask, modality)
            aux += list(a.values())
        img = F.normalize(self.image_projection(self.image_norm(x[:, :n].mean(1))), dim=-1)
        txt = F.normalize(self.text_projection(self.text_norm(x[torch.arange(b), n + eot])), dim=-1)
        logits = self.logit_scale.exp() * img @ txt.t()
        eq = (labels[:, None] == labels[None, :]).float()
        targets = eq / eq.sum(1, keepdim=True)
        ce = lambda z: (torch.logsumexp(z, -1) - (targets * z).sum(-1)).mean()  # noqa: E731
        loss = (ce(logits) + ce(logits.t())) / 2
        return loss + sum(aux) if aux else loss


def make_step(variant, batch):
    g = torch.Generator().manual_seed(0)
    b, length = batch["batch"], batch["L"]
    images = torch.tensor(batch["images"], dtype=torch.float32).view(b, 1, 28, 28)
    ids = torch.tensor(batch["ids"], dtype=torch.long).view(b, length)
    text_mask = torch.tensor(batch["mask"], dtype=torch.float32).view(b, length)
    eot = torch.tensor(batch["eot"], dtype=torch.long)
    labels = torch.tensor(batch["labels"], dtype=torch.long)
    model = LIMoE(variant == "limoe", batch["vocab"], length, g)
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2 or "position" in n or "tokens" in n]
    decay = [p for n, p in model.named_parameters() if not (p.ndim < 2 or "position" in n or "tokens" in n)]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}], lr=1e-4
    )

    def step():
        loss = model(images, ids, text_mask, eot, labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100))
        return loss.item()

    return step


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else torch.get_num_threads()
    torch.set_num_threads(threads)
    batch = json.loads(sys.stdin.readline())
    steps = {}
    print(f"ready torch {torch.__version__}, {torch.get_num_threads()} threads", flush=True)
    for line in sys.stdin:
        try:
            key = line.strip()
            if key not in steps:
                steps[key] = make_step(key, batch)
                steps[key]()  # warm-up
            t0 = time.perf_counter()
            steps[key]()
            print(time.perf_counter() - t0, flush=True)
        except Exception as e:  # noqa: BLE001 - report any failure to the caller
            print(f"err {e}", flush=True)


if __name__ == "__main__":
    main()
