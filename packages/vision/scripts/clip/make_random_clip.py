#!/usr/bin/python3
"""Write a random-weight CLIP with the exact compute shape of ViT-B/32, for benchmarks only.

Run with Debian's interpreter (it has `onnx` 1.12 and `numpy`; the default `python3` may not):

    /usr/bin/python3 packages/vision/scripts/clip/make_random_clip.py [OUT_DIR] [--combined] [--bmm-attention]

OUT_DIR defaults to `bench-models/clip-vit-b32-random` at the repository root (gitignored: the folder is
~600 MB and must never be committed). The output is deterministic (seeded). `--combined` also writes
`onnx/model.onnx` (CLIPModel, both towers in one graph, another ~600 MB), which only transformers.js's
`zero-shot-image-classification` pipeline needs. `--bmm-attention` writes attention as torch.onnx.export
writes transformers' CLIPAttention (heads folded into the batch, [b * heads, s, d]): same weights and
outputs, and onnxruntime then fuses K's transpose into the MatMul (measured ~5% faster vision tower on
2 cores; see export_torch_clip.py and compare_vision_graphs.mjs).

The weights are random (normal, std 0.02; LayerNorm weight 1, bias 0), so the model's answers mean nothing;
what is real is the compute: every matmul, attention and LayerNorm of OpenAI's ViT-B/32 CLIP in fp32.

  vision  pixel_values [b, 3, 224, 224] -> Conv 32x32/32 (768, no bias) -> 49 patches + class token
          + position embedding (50) -> ln_pre -> 12 x [pre-LN block: 12-head attention, MLP 3072 with
          QuickGELU] -> class token -> ln_post -> projection 768 -> 512: image_embeds [b, 512]
  text    input_ids, attention_mask [b, s] -> token (49408 x 512) + position (77) embedding
          -> 12 x [pre-LN block: 8-head causal attention (plus the padding mask), MLP 2048 QuickGELU]
          -> final LayerNorm -> the row at argmax(input_ids) (the end token, CLIP's pooling)
          -> projection 512 -> 512: text_embeds [b, 512]

The graphs use the input/output names of transformers.js CLIP exports (`Xenova/clip-vit-base-patch32`),
so `loadTransformersClip` (separate `text_model.onnx` / `vision_model.onnx`) loads the folder unchanged.

The tokenizer is a CLIP-style byte-level BPE (CLIP's split regex, lowercase, `</w>` suffix, the 512 byte
symbols) whose merges are learned on the ImageNet class names x OpenAI's 80 templates
(`packages/vision/data/imagenet/`), so — as with CLIP's own 49k-token BPE — each of those words is one
token, and prompts have realistic lengths; the script prints the mean tokens per prompt. The vocabulary is
padded to CLIP's 49408 entries with unused tokens so that `<|startoftext|>` = 49406 and
`<|endoftext|>` = 49407, the largest id, as CLIP's argmax pooling requires.
"""

import json
import math
import os
import re
import sys
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17  # LayerNormalization
VOCAB = 49408
CONTEXT = 77
IMAGE = 224
PATCH = 32
V_WIDTH, V_LAYERS, V_HEADS, V_MLP = 768, 12, 12, 3072
T_WIDTH, T_LAYERS, T_HEADS, T_MLP = 512, 12, 8, 2048
PROJ = 512
STD = 0.02
SEED = 20240612
BMM_ATTENTION = False  # --bmm-attention
LOGIT_SCALE = math.log(100.0)
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
BOS = '<|startoftext|>'
EOS = '<|endoftext|>'
CLIP_SPLIT = re.compile(r"'s|'t|'re|'ve|'m|'ll|'d|[a-z]+|[0-9]|[^\sa-z0-9]+")

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, '..', '..', '..', '..'))
DATA = os.path.join(REPO, 'packages', 'vision', 'data', 'imagenet')


# ---------------------------------------------------------------- tokenizer


def bytes_to_unicode():
    """GPT-2/CLIP byte-level alphabet, in CLIP's vocabulary order (printable bytes first)."""
    printable = (
        list(range(ord('!'), ord('~') + 1))
        + list(range(ord('\u00a1'), ord('\u00ac') + 1))
        + list(range(ord('\u00ae'), ord('\u00ff') + 1))
    )
    table = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    order = printable + [b for b in range(256) if b not in printable]
    return table, [table[b] for b in order]


def prompts():
    with open(os.path.join(DATA, 'classnames.json'), encoding='utf-8') as f:
        classes = json.load(f)
    with open(os.path.join(DATA, 'templates.json'), encoding='utf-8') as f:
        templates = json.load(f)['openai80']
    return [t.replace('{}', c) for c in classes for t in templates]


def pre_tokenize(text, byte_table):
    """CLIP's normalisation and split (ASCII approximation of its regex), then byte-level symbols."""
    text = re.sub(r'\s+', ' ', text).strip().lower()
    words = CLIP_SPLIT.findall(text)
    return [''.join(byte_table[b] for b in w.encode('utf-8')) for w in words]


def word_symbols(word):
    symbols = list(word)
    symbols[-1] += '</w>'
    return tuple(symbols)


def train_bpe(word_counts, max_merges):
    """Frequency-weighted BPE with incremental pair counts, until every word is one symbol."""
    segs = {w: word_symbols(w) for w in word_counts}
    pairs, where = {}, {}
    for w, s in segs.items():
        for p in zip(s, s[1:]):
            pairs[p] = pairs.get(p, 0) + word_counts[w]
            where.setdefault(p, set()).add(w)
    merges = []
    while pairs and len(merges) < max_merges:
        best = min(pairs, key=lambda p: (-pairs[p], p))
        merges.append(best)
        for w in list(where.get(best, ())):
            s, n = segs[w], word_counts[w]
            for p in zip(s, s[1:]):
                pairs[p] -= n
                if pairs[p] <= 0:
                    del pairs[p]
                where[p].discard(w)
            out, i = [], 0
            while i < len(s):
                if i + 1 < len(s) and (s[i], s[i + 1]) == best:
                    out.append(s[i] + s[i + 1])
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            s = segs[w] = tuple(out)
            for p in zip(s, s[1:]):
                pairs[p] = pairs.get(p, 0) + n
                where.setdefault(p, set()).add(w)
        where.pop(best, None)
    return merges


def bpe_encode(word, ranks):
    symbols = list(word_symbols(word))
    while len(symbols) > 1:
        pairs = [(ranks.get(p, math.inf), i) for i, p in enumerate(zip(symbols, symbols[1:]))]
        rank, i = min(pairs)
        if rank == math.inf:
            break
        symbols = symbols[:i] + [symbols[i] + symbols[i + 1]] + symbols[i + 2 :]
    return symbols


def build_tokenizer(texts):
    byte_table, alphabet = bytes_to_unicode()
    counts = {}
    for t in texts:
        for w in pre_tokenize(t, byte_table):
            counts[w] = counts.get(w, 0) + 1
    vocab = {}
    for s in alphabet:
        vocab[s] = len(vocab)
    for s in alphabet:
        vocab[s + '</w>'] = len(vocab)
    merges = train_bpe(counts, VOCAB - 2 - len(vocab))
    for a, b in merges:
        if a + b not in vocab:
            vocab[a + b] = len(vocab)
    unused = 0
    while len(vocab) < VOCAB - 2:
        vocab[f'<|unused{unused}|>'] = len(vocab)
        unused += 1
    vocab[BOS] = len(vocab)
    vocab[EOS] = len(vocab)
    assert vocab[EOS] == VOCAB - 1
    ranks = {m: i for i, m in enumerate(merges)}
    lengths = [2 + sum(len(bpe_encode(w, ranks)) for w in pre_tokenize(t, byte_table)) for t in texts]
    return vocab, merges, lengths


def tokenizer_json(vocab, merges):
    def special(content):
        return {
            'id': vocab[content],
            'content': content,
            'single_word': False,
            'lstrip': False,
            'rstrip': False,
            'normalized': content == BOS,
            'special': True,
        }

    clip_split = (
        "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+"
    )
    return {
        'version': '1.0',
        'truncation': None,
        'padding': None,
        'added_tokens': [special(BOS), special(EOS)],
        'normalizer': {
            'type': 'Sequence',
            'normalizers': [
                {'type': 'NFC'},
                {'type': 'Replace', 'pattern': {'Regex': '\\s+'}, 'content': ' '},
                {'type': 'Lowercase'},
            ],
        },
        'pre_tokenizer': {
            'type': 'Sequence',
            'pretokenizers': [
                {'type': 'Split', 'pattern': {'Regex': clip_split}, 'behavior': 'Removed', 'invert': True},
                {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': True, 'use_regex': False},
            ],
        },
        'post_processor': {
            'type': 'RobertaProcessing',
            'sep': [EOS, vocab[EOS]],
            'cls': [BOS, vocab[BOS]],
            'trim_offsets': False,
            'add_prefix_space': False,
        },
        'decoder': {'type': 'ByteLevel', 'add_prefix_space': True, 'trim_offsets': True, 'use_regex': True},
        'model': {
            'type': 'BPE',
            'dropout': None,
            'unk_token': EOS,
            'continuing_subword_prefix': '',
            'end_of_word_suffix': '</w>',
            'fuse_unk': False,
            'byte_fallback': False,
            'vocab': vocab,
            'merges': [f'{a} {b}' for a, b in merges],
        },
    }


# ---------------------------------------------------------------- graphs


class Graph:
    """Nodes and random initializers; every tensor name gets the graph's prefix."""

    def __init__(self, rng, prefix=''):
        self.rng, self.p = rng, prefix
        self.nodes, self.inits, self.count = [], [], 0

    def init(self, name, array):
        self.inits.append(numpy_helper.from_array(np.asarray(array), self.p + name))
        return self.p + name

    def rand(self, name, shape):
        return self.init(name, (STD * self.rng.standard_normal(shape, dtype=np.float32)).astype(np.float32))

    def const(self, name, value, dtype=np.int64):
        return self.init(name, np.asarray(value, dtype=dtype))

    def node(self, op, inputs, n_out=1, **attrs):
        self.count += 1
        outs = [f'{self.p}{op}_{self.count}_{i}' for i in range(n_out)]
        self.nodes.append(helper.make_node(op, inputs, outs, **attrs))
        return outs[0] if n_out == 1 else outs

    def linear(self, name, x, d_in, d_out, bias=True):
        y = self.node('MatMul', [x, self.rand(name + '.weight', (d_in, d_out))])
        return self.node('Add', [y, self.init(name + '.bias', np.zeros(d_out, np.float32))]) if bias else y

    def layer_norm(self, name, x, width):
        scale = self.init(name + '.weight', np.ones(width, np.float32))
        bias = self.init(name + '.bias', np.zeros(width, np.float32))
        return self.node('LayerNormalization', [x, scale, bias], axis=-1, epsilon=1e-5)

    def block(self, name, x, width, heads, mlp, mask):
        """A pre-LN CLIP residual block: x + attn(ln_1(x)), then x + mlp(ln_2(x))."""
        d = width // heads
        h = self.layer_norm(name + '.layer_norm1', x, width)
        split_heads = self.const(f'{name}.heads_shape', [0, -1, heads, d])
        if BMM_ATTENTION:
            # transformers' CLIPAttention as torch.onnx.export writes it: heads folded into the batch,
            # [b * heads, s, d], so onnxruntime fuses K's last transpose into MatMul (transB) instead of
            # merging K's two transposes into one slow [0, 2, 3, 1] Transpose (the 4-D form below).
            seq = self.node('Slice', [self.node('Shape', [h]), self.const(f'{name}.s1', [1]), self.const(f'{name}.s2', [2])])
            minus1 = self.const(f'{name}.minus1', [-1])
            fold = self.node('Concat', [minus1, seq, self.const(f'{name}.d', [d])], axis=0)

            def project(kind):
                y = self.linear(f'{name}.self_attn.{kind}_proj', h, width, width)
                y = self.node('Transpose', [self.node('Reshape', [y, split_heads])], perm=[0, 2, 1, 3])
                return self.node('Reshape', [y, fold])

            q = self.node('Mul', [project('q'), self.const(f'{name}.scale', 1 / math.sqrt(d), np.float32)])
            k, v = project('k'), project('v')
            scores = self.node('MatMul', [q, self.node('Transpose', [k], perm=[0, 2, 1])])
            if mask is not None:
                four = self.node('Concat', [minus1, self.const(f'{name}.heads', [heads]), seq, seq], axis=0)
                scores = self.node('Add', [self.node('Reshape', [scores, four]), mask])
                scores = self.node('Reshape', [scores, self.node('Concat', [minus1, seq, seq], axis=0)])
            attn = self.node('MatMul', [self.node('Softmax', [scores], axis=-1), v])
            unfold = self.node('Concat', [minus1, self.const(f'{name}.heads4', [heads]), seq, self.const(f'{name}.d4', [d])], axis=0)
            merged = self.node('Transpose', [self.node('Reshape', [attn, unfold])], perm=[0, 2, 1, 3])
            merged = self.node('Reshape', [merged, self.const(f'{name}.merge_shape', [0, -1, width])])
            x = self.node('Add', [x, self.linear(f'{name}.self_attn.out_proj', merged, width, width)])
            return self.mlp(name, x, width, mlp)

        def project(kind):
            y = self.linear(f'{name}.self_attn.{kind}_proj', h, width, width)
            return self.node('Transpose', [self.node('Reshape', [y, split_heads])], perm=[0, 2, 1, 3])

        q = self.node('Mul', [project('q'), self.const(f'{name}.scale', 1 / math.sqrt(d), np.float32)])
        k, v = project('k'), project('v')
        scores = self.node('MatMul', [q, self.node('Transpose', [k], perm=[0, 1, 3, 2])])
        if mask is not None:
            scores = self.node('Add', [scores, mask])
        attn = self.node('MatMul', [self.node('Softmax', [scores], axis=-1), v])
        merged = self.node('Transpose', [attn], perm=[0, 2, 1, 3])
        merged = self.node('Reshape', [merged, self.const(f'{name}.merge_shape', [0, -1, width])])
        x = self.node('Add', [x, self.linear(f'{name}.self_attn.out_proj', merged, width, width)])
        return self.mlp(name, x, width, mlp)

    def mlp(self, name, x, width, mlp):
        h = self.layer_norm(name + '.layer_norm2', x, width)
        h = self.linear(f'{name}.mlp.fc1', h, width, mlp)
        scaled = self.node('Mul', [h, self.const(f'{name}.gelu', 1.702, np.float32)])
        h = self.node('Mul', [h, self.node('Sigmoid', [scaled])])  # QuickGELU
        return self.node('Add', [x, self.linear(f'{name}.mlp.fc2', h, mlp, width)])


def text_tower(g, ids, mask):
    emb = g.node('Gather', [g.rand('embeddings.token_embedding.weight', (VOCAB, T_WIDTH)), ids])
    seq = g.node('Gather', [g.node('Shape', [ids]), g.const('one', 1)])
    positions = g.node('Range', [g.const('zero', 0), seq, g.const('one_step', 1)])
    pos = g.node('Gather', [g.rand('embeddings.position_embedding.weight', (CONTEXT, T_WIDTH)), positions])
    x = g.node('Add', [emb, pos])
    # Additive mask [b, 1, s, s]: causal (upper triangle) plus padding columns, -1e9 where masked.
    seq1 = g.node('Unsqueeze', [seq, g.const('axis0', [0])])
    ends = g.node('Concat', [seq1, seq1], axis=0)
    full = np.triu(np.full((CONTEXT, CONTEXT), -1e9, np.float32), 1)
    causal = g.node('Slice', [g.init('causal_mask', full), g.const('starts', [0, 0]), ends])
    pad = g.node('Sub', [g.const('onef', 1.0, np.float32), g.node('Cast', [mask], to=TensorProto.FLOAT)])
    pad = g.node('Unsqueeze', [pad, g.const('axes12', [1, 2])])
    pad = g.node('Mul', [pad, g.const('neg', -1e9, np.float32)])
    additive = g.node('Add', [g.node('Unsqueeze', [causal, g.const('axis0b', [0])]), pad])
    for i in range(T_LAYERS):
        x = g.block(f'encoder.layers.{i}', x, T_WIDTH, T_HEADS, T_MLP, additive)
    hidden = g.layer_norm('final_layer_norm', x, T_WIDTH)
    eos = g.node('Unsqueeze', [g.node('ArgMax', [ids], axis=-1, keepdims=0), g.const('axis_last', [-1])])
    pooled = g.node('GatherND', [hidden, eos], batch_dims=1)
    return g.linear('text_projection', pooled, T_WIDTH, PROJ, bias=False), hidden


def vision_tower(g, pixels):
    patches = g.node(
        'Conv',
        [pixels, g.rand('embeddings.patch_embedding.weight', (V_WIDTH, 3, PATCH, PATCH))],
        kernel_shape=[PATCH, PATCH],
        strides=[PATCH, PATCH],
    )
    patches = g.node('Reshape', [patches, g.const('flat', [0, V_WIDTH, -1])])
    patches = g.node('Transpose', [patches], perm=[0, 2, 1])
    batch = g.node('Slice', [g.node('Shape', [pixels]), g.const('s0', [0]), g.const('s1', [1])])
    cls_shape = g.node('Concat', [batch, g.const('cls_rest', [1, V_WIDTH])], axis=0)
    cls = g.node('Expand', [g.rand('embeddings.class_embedding', (1, 1, V_WIDTH)), cls_shape])
    x = g.node('Concat', [cls, patches], axis=1)
    n = (IMAGE // PATCH) ** 2 + 1
    x = g.node('Add', [x, g.rand('embeddings.position_embedding.weight', (n, V_WIDTH))])
    x = g.layer_norm('pre_layrnorm', x, V_WIDTH)
    for i in range(V_LAYERS):
        x = g.block(f'encoder.layers.{i}', x, V_WIDTH, V_HEADS, V_MLP, None)
    first = g.node('Gather', [x, g.const('first', 0)], axis=1)
    pooled = g.layer_norm('post_layernorm', first, V_WIDTH)
    return g.linear('visual_projection', pooled, V_WIDTH, PROJ, bias=False), x


def io(name, elem, dims):
    return helper.make_tensor_value_info(name, elem, dims)


def finish(g, name, inputs, outputs):
    graph = helper.make_graph(g.nodes, name, inputs, outputs, g.inits)
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid('', OPSET)], producer_name='moevl make_random_clip.py'
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


TEXT_IN = [io('input_ids', TensorProto.INT64, ['batch_size', 'sequence_length']),
           io('attention_mask', TensorProto.INT64, ['batch_size', 'sequence_length'])]


def text_model(seed):
    g = Graph(np.random.default_rng(seed))
    emb, hidden = text_tower(g, 'input_ids', 'attention_mask')
    g.nodes.append(helper.make_node('Identity', [emb], ['text_embeds']))
    g.nodes.append(helper.make_node('Identity', [hidden], ['last_hidden_state']))
    return finish(g, 'random_clip_text', TEXT_IN, [
        io('text_embeds', TensorProto.FLOAT, ['batch_size', PROJ]),
        io('last_hidden_state', TensorProto.FLOAT, ['batch_size', 'sequence_length', T_WIDTH]),
    ])


def vision_model(seed):
    g = Graph(np.random.default_rng(seed))
    emb, hidden = vision_tower(g, 'pixel_values')
    g.nodes.append(helper.make_node('Identity', [emb], ['image_embeds']))
    g.nodes.append(helper.make_node('Identity', [hidden], ['last_hidden_state']))
    n = (IMAGE // PATCH) ** 2 + 1
    pixels = io('pixel_values', TensorProto.FLOAT, ['batch_size', 3, IMAGE, IMAGE])
    return finish(g, 'random_clip_vision', [pixels], [
        io('image_embeds', TensorProto.FLOAT, ['batch_size', PROJ]),
        io('last_hidden_state', TensorProto.FLOAT, ['batch_size', n, V_WIDTH]),
    ])


def combined_model(seed_text, seed_vision):
    """CLIPModel: both towers (same weights as the separate files: same seeds and order), L2-normalised
    embeddings and logits, for transformers.js's zero-shot-image-classification pipeline."""
    t = Graph(np.random.default_rng(seed_text), 'text_model.')
    text, _ = text_tower(t, 'input_ids', 'attention_mask')
    v = Graph(np.random.default_rng(seed_vision), 'vision_model.')
    image, _ = vision_tower(v, 'pixel_values')
    g = Graph(None)
    g.nodes, g.inits = t.nodes + v.nodes, t.inits + v.inits

    def normalise(x, name):
        norm = g.node('ReduceL2', [x], axes=[1], keepdims=1)
        g.nodes.append(helper.make_node('Div', [x, norm], [name]))
        return name

    tn, im = normalise(text, 'text_embeds'), normalise(image, 'image_embeds')
    sim = g.node('MatMul', [tn, g.node('Transpose', [im], perm=[1, 0])])
    scale = g.const('logit_scale', math.exp(LOGIT_SCALE), np.float32)
    g.nodes.append(helper.make_node('Mul', [sim, scale], ['logits_per_text']))
    g.nodes.append(helper.make_node('Transpose', ['logits_per_text'], ['logits_per_image'], perm=[1, 0]))
    return finish(g, 'random_clip', [
        io('input_ids', TensorProto.INT64, ['text_batch_size', 'sequence_length']),
        io('pixel_values', TensorProto.FLOAT, ['image_batch_size', 3, IMAGE, IMAGE]),
        io('attention_mask', TensorProto.INT64, ['text_batch_size', 'sequence_length']),
    ], [
        io('logits_per_image', TensorProto.FLOAT, ['image_batch_size', 'text_batch_size']),
        io('logits_per_text', TensorProto.FLOAT, ['text_batch_size', 'image_batch_size']),
        io('text_embeds', TensorProto.FLOAT, ['text_batch_size', PROJ]),
        io('image_embeds', TensorProto.FLOAT, ['image_batch_size', PROJ]),
    ])


# ---------------------------------------------------------------- configs


def config_json():
    return {
        '_name_or_path': 'moevl/clip-vit-b32-random',
        'architectures': ['CLIPModel'],
        'model_type': 'clip',
        'initializer_factor': 1.0,
        'logit_scale_init_value': LOGIT_SCALE,
        'projection_dim': PROJ,
        'text_config': {
            'model_type': 'clip_text_model',
            'vocab_size': VOCAB,
            'hidden_size': T_WIDTH,
            'intermediate_size': T_MLP,
            'num_hidden_layers': T_LAYERS,
            'num_attention_heads': T_HEADS,
            'max_position_embeddings': CONTEXT,
            'hidden_act': 'quick_gelu',
            'projection_dim': PROJ,
            'bos_token_id': VOCAB - 2,
            'eos_token_id': VOCAB - 1,
            'pad_token_id': VOCAB - 1,
        },
        'vision_config': {
            'model_type': 'clip_vision_model',
            'hidden_size': V_WIDTH,
            'intermediate_size': V_MLP,
            'num_hidden_layers': V_LAYERS,
            'num_attention_heads': V_HEADS,
            'num_channels': 3,
            'image_size': IMAGE,
            'patch_size': PATCH,
            'hidden_act': 'quick_gelu',
            'projection_dim': PROJ,
        },
        'moevl_random_clip': {
            'note': 'Random weights with the compute shape of CLIP ViT-B/32, for benchmarks only; '
            'see packages/vision/scripts/clip/make_random_clip.py.',
            'seed': SEED,
        },
        'transformers_version': '4.41.0',
    }


def preprocessor_config_json():
    return {
        'crop_size': {'height': IMAGE, 'width': IMAGE},
        'do_center_crop': True,
        'do_convert_rgb': True,
        'do_normalize': True,
        'do_rescale': True,
        'do_resize': True,
        'image_mean': CLIP_MEAN,
        'image_processor_type': 'CLIPImageProcessor',
        'image_std': CLIP_STD,
        'resample': 3,
        'rescale_factor': 1 / 255,
        'size': {'shortest_edge': IMAGE},
    }


def tokenizer_config_json():
    return {
        'add_prefix_space': False,
        'bos_token': BOS,
        'clean_up_tokenization_spaces': True,
        'do_lower_case': True,
        'eos_token': EOS,
        'errors': 'replace',
        'model_max_length': CONTEXT,
        'pad_token': EOS,
        'tokenizer_class': 'CLIPTokenizer',
        'unk_token': EOS,
    }


def write_json(path, value):
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(value, f, indent=2, ensure_ascii=False)
        f.write('\n')


# ---------------------------------------------------------------- main


def main():
    args = [a for a in sys.argv[1:] if not a.startswith('--')]
    combined = '--combined' in sys.argv[1:]
    global BMM_ATTENTION
    BMM_ATTENTION = '--bmm-attention' in sys.argv[1:]
    out = os.path.abspath(args[0]) if args else os.path.join(REPO, 'bench-models', 'clip-vit-b32-random')
    os.makedirs(os.path.join(out, 'onnx'), exist_ok=True)
    start = time.time()

    texts = prompts()
    vocab, merges, lengths = build_tokenizer(texts)
    print(
        f'tokenizer: {len(merges)} merges learned on {len(texts)} prompts; '
        'tokens per prompt (with start/end): '
        f'mean {np.mean(lengths):.2f}, max {max(lengths)}',
        flush=True,
    )
    write_json(os.path.join(out, 'tokenizer.json'), tokenizer_json(vocab, merges))
    write_json(os.path.join(out, 'tokenizer_config.json'), tokenizer_config_json())
    write_json(os.path.join(out, 'preprocessor_config.json'), preprocessor_config_json())
    jobs = [('text_model', lambda: text_model(SEED)), ('vision_model', lambda: vision_model(SEED + 1))]
    if combined:
        jobs.append(('model', lambda: combined_model(SEED, SEED + 1)))
    for name, build in jobs:
        path = os.path.join(out, 'onnx', f'{name}.onnx')
        onnx.save(build(), path)
        print(f'wrote {path} ({os.path.getsize(path) / 1e6:.0f} MB, {time.time() - start:.0f} s)', flush=True)
    # config.json last: a folder without it is incomplete, so an interrupted run is rebuilt next time.
    write_json(os.path.join(out, 'config.json'), config_json())
    print(f'done: {out} in {time.time() - start:.0f} s')


if __name__ == '__main__':
    main()
