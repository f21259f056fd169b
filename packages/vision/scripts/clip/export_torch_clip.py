#!/usr/bin/python3
"""Export CLIP ViT-B/32's vision tower from a plain torch nn.Module with torch.onnx.export, for benchmarks only.

    /usr/bin/python3 packages/vision/scripts/clip/export_torch_clip.py [OUT_DIR] [--src SRC_DIR]
        [--attn hf|mha] [--opset N] [--random]

Needs Debian's `python3-torch` (1.13) and `python3-onnx`. It answers one question: is the hand-written
graph of make_random_clip.py slower in onnxruntime than what the PyTorch exporter makes of the same
architecture? So it writes OUT_DIR (default `bench-models/clip-vit-b32-random-torch`, gitignored) as a copy
of SRC_DIR (default `bench-models/clip-vit-b32-random`: config, tokenizer, preprocessor, text_model.onnx,
copied or hard-linked) whose `onnx/vision_model.onnx` is the torch export.

By default the weights are read from SRC_DIR's `onnx/vision_model.onnx` (same initializer names as HF's
CLIPVisionModelWithProjection), so both graphs compute the same function and their outputs can be compared;
`--random` uses seeded random weights instead (normal, std 0.02; LayerNorm 1/0).

The module is OpenAI's ViT-B/32 vision tower: Conv 32x32/32 (768, no bias), class token, position
embedding 50x768, ln_pre, 12 pre-LN residual blocks (12-head attention, MLP 3072 with QuickGELU),
ln_post on the class token, projection 768 -> 512 (no bias). Attention:
  --attn hf   HF transformers' CLIPAttention (separate q/k/v Linear, q * scale, bmm over batch*heads),
              what Xenova/optimum exports of openai/clip-vit-base-patch32 contain (the default)
  --attn mha  torch.nn.MultiheadAttention, as in OpenAI's clip/model.py
Inputs/outputs: pixel_values [batch_size, 3, 224, 224] -> image_embeds [batch_size, 512],
last_hidden_state [batch_size, 50, 768] (the encoder output, before ln_post, like HF and our graph).
"""

import argparse
import math
import os
import shutil

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import nn

WIDTH, LAYERS, HEADS, MLP, PROJ, IMAGE, PATCH = 768, 12, 12, 3072, 512, 224, 32
N_TOKENS = (IMAGE // PATCH) ** 2 + 1
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, '..', '..', '..', '..'))


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class HFAttention(nn.Module):
    """transformers' CLIPAttention (eager, 4.2x-4.3x)."""

    def __init__(self):
        super().__init__()
        self.head_dim = WIDTH // HEADS
        self.scale = self.head_dim ** -0.5
        self.q_proj, self.k_proj = nn.Linear(WIDTH, WIDTH), nn.Linear(WIDTH, WIDTH)
        self.v_proj, self.out_proj = nn.Linear(WIDTH, WIDTH), nn.Linear(WIDTH, WIDTH)

    def _shape(self, t, seq, bsz):
        return t.view(bsz, seq, HEADS, self.head_dim).transpose(1, 2).contiguous()

    def forward(self, x):
        bsz, tgt, _ = x.size()
        q = self.q_proj(x) * self.scale
        k = self._shape(self.k_proj(x), -1, bsz)
        v = self._shape(self.v_proj(x), -1, bsz)
        shape = (bsz * HEADS, -1, self.head_dim)
        q = self._shape(q, tgt, bsz).view(*shape)
        k, v = k.view(*shape), v.view(*shape)
        w = torch.softmax(torch.bmm(q, k.transpose(1, 2)), dim=-1)
        out = torch.bmm(w, v).view(bsz, HEADS, tgt, self.head_dim).transpose(1, 2)
        return self.out_proj(out.reshape(bsz, tgt, WIDTH))


class MHAttention(nn.Module):
    def __init__(self):
        super().__init__()
        # Sequence-first (x is [50, b, 768]), as OpenAI's clip/model.py, which permutes NLD -> LND once
        # around the transformer; batch_first=True would take torch's fast path,
        # aten::_native_multi_head_attention, which the 1.13 exporter cannot export.
        self.mha = nn.MultiheadAttention(WIDTH, HEADS)

    def forward(self, x):
        return self.mha(x, x, x, need_weights=False)[0]


class Block(nn.Module):
    def __init__(self, attn):
        super().__init__()
        self.layer_norm1 = nn.LayerNorm(WIDTH)
        self.self_attn = HFAttention() if attn == 'hf' else MHAttention()
        self.layer_norm2 = nn.LayerNorm(WIDTH)
        self.fc1, self.act, self.fc2 = nn.Linear(WIDTH, MLP), QuickGELU(), nn.Linear(MLP, WIDTH)

    def forward(self, x):
        x = x + self.self_attn(self.layer_norm1(x))
        return x + self.fc2(self.act(self.fc1(self.layer_norm2(x))))


class VisionTower(nn.Module):
    def __init__(self, attn):
        super().__init__()
        self.seq_first = attn == 'mha'
        self.patch_embedding = nn.Conv2d(3, WIDTH, PATCH, PATCH, bias=False)
        self.class_embedding = nn.Parameter(torch.zeros(WIDTH))
        self.position_embedding = nn.Parameter(torch.zeros(N_TOKENS, WIDTH))
        self.pre_layrnorm = nn.LayerNorm(WIDTH)
        self.layers = nn.ModuleList([Block(attn) for _ in range(LAYERS)])
        self.post_layernorm = nn.LayerNorm(WIDTH)
        self.visual_projection = nn.Linear(WIDTH, PROJ, bias=False)

    def forward(self, pixel_values):
        x = self.patch_embedding(pixel_values).flatten(2).transpose(1, 2)  # [b, 49, 768]
        cls = self.class_embedding.expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1) + self.position_embedding
        x = self.pre_layrnorm(x)
        if self.seq_first:
            x = x.permute(1, 0, 2)  # NLD -> LND
        for layer in self.layers:
            x = layer(x)
        if self.seq_first:
            x = x.permute(1, 0, 2)  # LND -> NLD
        pooled = self.post_layernorm(x[:, 0, :])
        return self.visual_projection(pooled), x


def load_weights(model, path, attn):
    """Copy the initializers of make_random_clip.py's vision_model.onnx (MatMul weights are [in, out])."""
    w = {t.name: numpy_helper.to_array(t) for t in onnx.load(path).graph.initializer}
    t = lambda name: torch.from_numpy(np.ascontiguousarray(w[name]))
    lt = lambda name: torch.from_numpy(np.ascontiguousarray(w[name].T))
    with torch.no_grad():
        model.patch_embedding.weight.copy_(t('embeddings.patch_embedding.weight'))
        model.class_embedding.copy_(t('embeddings.class_embedding').reshape(WIDTH))
        model.position_embedding.copy_(t('embeddings.position_embedding.weight'))
        for ln in ('pre_layrnorm', 'post_layernorm'):
            getattr(model, ln).weight.copy_(t(ln + '.weight'))
            getattr(model, ln).bias.copy_(t(ln + '.bias'))
        model.visual_projection.weight.copy_(lt('visual_projection.weight'))
        for i, blk in enumerate(model.layers):
            p = f'encoder.layers.{i}.'
            for ln in ('layer_norm1', 'layer_norm2'):
                getattr(blk, ln).weight.copy_(t(p + ln + '.weight'))
                getattr(blk, ln).bias.copy_(t(p + ln + '.bias'))
            for fc in ('fc1', 'fc2'):
                getattr(blk, fc).weight.copy_(lt(f'{p}mlp.{fc}.weight'))
                getattr(blk, fc).bias.copy_(t(f'{p}mlp.{fc}.bias'))
            proj = lambda k: (lt(f'{p}self_attn.{k}_proj.weight'), t(f'{p}self_attn.{k}_proj.bias'))
            if attn == 'hf':
                for k in ('q', 'k', 'v', 'out'):
                    lin = getattr(blk.self_attn, k + '_proj')
                    lin.weight.copy_(proj(k)[0])
                    lin.bias.copy_(proj(k)[1])
            else:
                mha = blk.self_attn.mha
                mha.in_proj_weight.copy_(torch.cat([proj(k)[0] for k in 'qkv'], 0))
                mha.in_proj_bias.copy_(torch.cat([proj(k)[1] for k in 'qkv'], 0))
                mha.out_proj.weight.copy_(proj('out')[0])
                mha.out_proj.bias.copy_(proj('out')[1])


def random_weights(model, seed):
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if 'norm' in name:
                p.fill_(1.0 if name.endswith('weight') else 0.0)
            elif name.endswith('bias'):
                p.zero_()
            else:
                p.normal_(0, 0.02)


def copy_tree(src, dst):
    """Copy SRC to DST, hard-linking large files when possible; skip the onnx/ folder's vision/combined."""
    for root, _, files in os.walk(src):
        rel = os.path.relpath(root, src)
        os.makedirs(os.path.join(dst, rel), exist_ok=True)
        for f in files:
            if rel == 'onnx' and f in ('vision_model.onnx', 'model.onnx'):
                continue
            s, d = os.path.join(root, f), os.path.join(dst, rel, f)
            if os.path.exists(d):
                os.remove(d)
            try:
                os.link(s, d)
            except OSError:
                shutil.copy2(s, d)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('out', nargs='?', default=os.path.join(REPO, 'bench-models', 'clip-vit-b32-random-torch'))
    ap.add_argument('--src', default=os.path.join(REPO, 'bench-models', 'clip-vit-b32-random'))
    ap.add_argument('--attn', choices=('hf', 'mha'), default='hf')
    ap.add_argument('--opset', type=int, default=17)
    ap.add_argument('--random', action='store_true', help='seeded random weights instead of SRC_DIR\'s')
    a = ap.parse_args()

    torch.set_grad_enabled(False)
    model = VisionTower(a.attn).eval()
    src_vision = os.path.join(a.src, 'onnx', 'vision_model.onnx')
    if a.random or not os.path.exists(src_vision):
        random_weights(model, 20240612)
    else:
        load_weights(model, src_vision, a.attn)

    copy_tree(a.src, a.out)
    path = os.path.join(a.out, 'onnx', 'vision_model.onnx')
    dummy = torch.randn(2, 3, IMAGE, IMAGE)
    torch.onnx.export(
        model, (dummy,), path,
        input_names=['pixel_values'], output_names=['image_embeds', 'last_hidden_state'],
        dynamic_axes={'pixel_values': {0: 'batch_size'}, 'image_embeds': {0: 'batch_size'},
                      'last_hidden_state': {0: 'batch_size'}},
        opset_version=a.opset, do_constant_folding=True,
    )
    m = onnx.load(path)
    onnx.checker.check_model(m)
    ops = {}
    for n in m.graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    print(f'wrote {path} ({os.path.getsize(path) / 1e6:.0f} MB, opset {a.opset}, attn {a.attn}); ops: {ops}')


if __name__ == '__main__':
    main()
