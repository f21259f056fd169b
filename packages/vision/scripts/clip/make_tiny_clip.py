#!/usr/bin/python3
"""Write a tiny CLIP-format model folder whose right answers are known by construction.

Run with Debian's interpreter (it has `onnx` 1.12 and `numpy`; the default `python3` may not):

    /usr/bin/python3 packages/vision/scripts/clip/make_tiny_clip.py [OUT_DIR]

OUT_DIR defaults to `packages/vision/test/fixtures/tiny-clip`. The output is deterministic (seeded), so
running the script again reproduces the committed fixture byte for byte.

Why a hand-built model: the tests of `src/clip/` must run offline and fast, and must know what the right
answer is. A real CLIP (even the smallest) is hundreds of MB and its answers are only "plausible". This
model has the same files, names, input/output names and shapes as a transformers.js CLIP export
(`Xenova/clip-*`), but its two towers are small linear maps designed so that every embedding has a
closed form:

  features (8 dims, the shared space before a fixed random rotation that both towers undo):
    0 red, 1 green, 2 blue, 3 light, 4 cat, 5 dog, 6 car, 7 "a caption" (constant)

  vision tower: mean colour of the image (in [0, 1] units, i.e. the normalised pixel mean mapped back with
    the CLIP mean/std) -> f = [r-(g+b)/2, g-(r+b)/2, b-(r+g)/2, 2*((r+g+b)/3-0.5), 0, 0, 0, 0.25]

  text tower: sum over the attended tokens of a per-token feature vector:
    red/green/blue -> e0/e1/e2; yellow (e0+e1)/sqrt2; cyan (e1+e2)/sqrt2; magenta (e0+e2)/sqrt2;
    bright e3; dark -e3; cat e4; dog e5; car e6; <|endoftext|> 0.25*e7; every other token 0.

So a red square's embedding is normalise([1, -.5, -.5, -1/3, 0, 0, 0, .25]) and "a photo of red" is
normalise(e0 + .25*e7): red ranks first among the colour words, "dark" beats "red" for a dark red
(0.4, 0, 0), a mid-grey image is deliberately ambiguous. Token and position embeddings carry seeded noise
in the 24 hidden dimensions the projections ignore, so the weights look like weights, and the position
table has exactly `max_position_embeddings` (16) rows: like a real CLIP, a sequence longer than that fails
inside the graph, which makes truncation testable.

Files written (the layout transformers.js 4.x loads with `env.allowRemoteModels = false`):
  config.json, tokenizer.json, tokenizer_config.json, preprocessor_config.json,
  onnx/text_model.onnx    input_ids, attention_mask [batch, seq] int64 -> text_embeds [batch, 8] (not
                          normalised), last_hidden_state [batch, seq, 32]
  onnx/vision_model.onnx  pixel_values [batch, 3, 32, 32] -> image_embeds [batch, 8] (not normalised),
                          last_hidden_state [batch, 1, 32]
  onnx/model.onnx         input_ids, pixel_values, attention_mask -> logits_per_image, logits_per_text,
                          text_embeds, image_embeds (the last two L2-normalised, as HF's CLIPModel returns
                          them); logits = exp(logit_scale) * cosine, logit_scale = ln 50
  onnx/*_quantized.onnx   the `dtype: 'q8'` files: the same graphs with int8 weights, written by hand in
                          the op pattern of onnxruntime's `quantize_dynamic` (DynamicQuantizeLinear +
                          MatMulInteger for matmuls, int8 Gather + DequantizeLinear for the embedding
                          table). onnxruntime's Python quantiser is not installed here; this reproduces
                          its pattern, it is not its output.

The tokenizer is a real (tiny) CLIP-style byte-level BPE: the CLIP pre-tokenizer regex, lowercase, all
512 byte symbols (with and without `</w>`), and merges learned by a small BPE trainer on the fixture's
word list so that each listed word is one token; other words split into byte symbols (feature 0).

JSON is written in the exact layout prettier produces (the repo runs `prettier --check .`).
"""

import json
import math
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HIDDEN = 32
PROJ = 8
MAX_POS = 16
IMAGE = 32
OPSET = 14
LOGIT_SCALE = math.log(50.0)
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
BOS = '<|startoftext|>'
EOS = '<|endoftext|>'
CAPTION = 0.25  # the constant "this is a caption/photo" component both towers share (feature 7)

R2 = 1 / math.sqrt(2)
WORD_FEATURES = {
    'red': {0: 1.0},
    'green': {1: 1.0},
    'blue': {2: 1.0},
    'yellow': {0: R2, 1: R2},
    'cyan': {1: R2, 2: R2},
    'magenta': {0: R2, 2: R2},
    'bright': {3: 1.0},
    'dark': {3: -1.0},
    'cat': {4: 1.0},
    'dog': {5: 1.0},
    'car': {6: 1.0},
}
FILLER_WORDS = [
    'a', 'an', 'the', 'this', 'is', 'of', 'photo', 'picture', 'image', 'square', 'solid', 'noisy',
    'colour', 'color', 'in', 'with', 'and', 'it',
]


# ---------------------------------------------------------------- tokenizer


def bytes_to_unicode():
    """GPT-2/CLIP byte-level alphabet: printable bytes map to themselves, the rest to U+0100.. ."""
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
    # CLIP orders its vocabulary by the printable bytes first, then the remapped ones.
    order = printable + [b for b in range(256) if b not in printable]
    return [table[b] for b in order]


def word_symbols(word):
    symbols = list(word)
    symbols[-1] += '</w>'
    return symbols


def train_bpe(words):
    """Greedy BPE training (each word counted once) until every word is a single symbol."""
    segs = {w: word_symbols(w) for w in words}
    merges = []
    while True:
        counts = {}
        for symbols in segs.values():
            for pair in zip(symbols, symbols[1:]):
                counts[pair] = counts.get(pair, 0) + 1
        if not counts:
            return merges
        best = min(counts, key=lambda p: (-counts[p], p))
        merges.append(best)
        for w, symbols in segs.items():
            out, i = [], 0
            while i < len(symbols):
                if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == best:
                    out.append(symbols[i] + symbols[i + 1])
                    i += 2
                else:
                    out.append(symbols[i])
                    i += 1
            segs[w] = out


def bpe_encode(word, ranks):
    """Reference encoder (lowest-rank pair first, leftmost on ties), used to check the merges."""
    symbols = word_symbols(word)
    while len(symbols) > 1:
        pairs = [(ranks.get(p, math.inf), i) for i, p in enumerate(zip(symbols, symbols[1:]))]
        rank, i = min(pairs)
        if rank == math.inf:
            break
        symbols = symbols[:i] + [symbols[i] + symbols[i + 1]] + symbols[i + 2 :]
    return symbols


def build_tokenizer():
    words = sorted(set(WORD_FEATURES) | set(FILLER_WORDS))
    alphabet = bytes_to_unicode()
    vocab = {}
    for s in alphabet:
        vocab[s] = len(vocab)
    for s in alphabet:
        vocab[s + '</w>'] = len(vocab)
    merges = train_bpe(words)
    for a, b in merges:
        if a + b not in vocab:
            vocab[a + b] = len(vocab)
    vocab[BOS] = len(vocab)
    vocab[EOS] = len(vocab)
    ranks = {m: i for i, m in enumerate(merges)}
    for w in words:
        assert bpe_encode(w, ranks) == [w + '</w>'], (w, bpe_encode(w, ranks))
    return vocab, merges


def tokenizer_json(vocab, merges):
    special = lambda content, id_: {
        'id': id_,
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
        'added_tokens': [special(BOS, vocab[BOS]), special(EOS, vocab[EOS])],
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


# ---------------------------------------------------------------- weights


def rotation(rng):
    q, r = np.linalg.qr(rng.standard_normal((PROJ, PROJ)))
    return (q * np.sign(np.diag(r))).astype(np.float64)


def build_weights(vocab):
    rng = np.random.default_rng(20240611)
    rot_t, rot_v = rotation(rng), rotation(rng)

    feats = np.zeros((len(vocab), PROJ))
    for word, dims in WORD_FEATURES.items():
        for d, v in dims.items():
            feats[vocab[word + '</w>'], d] = v
    feats[vocab[EOS], 7] = CAPTION
    token = np.concatenate([feats @ rot_t.T, 0.1 * rng.standard_normal((len(vocab), HIDDEN - PROJ))], 1)
    position = np.concatenate([np.zeros((MAX_POS, PROJ)), 0.1 * rng.standard_normal((MAX_POS, HIDDEN - PROJ))], 1)
    text_proj = np.concatenate([rot_t, np.zeros((HIDDEN - PROJ, PROJ))], 0)

    # f = A @ rgb + c with rgb = m * std + mean, m the normalised pixel mean.
    a = np.zeros((PROJ, 3))
    c = np.zeros(PROJ)
    a[0] = [1, -0.5, -0.5]
    a[1] = [-0.5, 1, -0.5]
    a[2] = [-0.5, -0.5, 1]
    a[3] = [2 / 3, 2 / 3, 2 / 3]
    c[3] = -1.0
    c[7] = CAPTION
    w_feat = (a * np.array(CLIP_STD)[None, :]).T  # [3, 8]: m @ w_feat
    b_feat = a @ np.array(CLIP_MEAN) + c
    patch_w = np.concatenate([w_feat @ rot_v.T, 0.1 * rng.standard_normal((3, HIDDEN - PROJ))], 1)
    patch_b = np.concatenate([b_feat @ rot_v.T, 0.1 * rng.standard_normal(HIDDEN - PROJ)])
    vis_proj = np.concatenate([rot_v, np.zeros((HIDDEN - PROJ, PROJ))], 0)
    f32 = lambda x: np.ascontiguousarray(x, dtype=np.float32)
    return {
        'token_embedding': f32(token),
        'position_embedding': f32(position),
        'text_projection': f32(text_proj),
        'patch_weight': f32(patch_w),
        'patch_bias': f32(patch_b),
        'visual_projection': f32(vis_proj),
    }


# ---------------------------------------------------------------- graphs


class Graph:
    """Collects nodes and initializers with a name prefix, so both towers fit in one combined graph."""

    def __init__(self):
        self.nodes, self.inits = [], []

    def init(self, name, array):
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(self, op, inputs, outputs, **attrs):
        self.nodes.append(helper.make_node(op, inputs, outputs, **attrs))
        return outputs[0] if len(outputs) == 1 else outputs

    def quantize_int8(self, name, w):
        """Symmetric per-tensor int8 (what quantize_dynamic does for weights by default)."""
        scale = np.float32(np.abs(w).max() / 127.0)
        q = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
        return self.init(name + '_quantized', q), self.init(name + '_scale', scale), self.init(
            name + '_zero_point', np.int8(0)
        )

    def matmul(self, p, x, name, w, quantized):
        if not quantized:
            return self.node('MatMul', [x, self.init(p + name, w)], [f'{p}{name}/out'])
        wq, ws, wz = self.quantize_int8(p + name, w)
        xq, xs, xz = self.node(
            'DynamicQuantizeLinear', [x], [f'{p}{name}/x_q', f'{p}{name}/x_scale', f'{p}{name}/x_zp']
        )
        acc = self.node('MatMulInteger', [xq, wq, xz, wz], [f'{p}{name}/acc'])
        accf = self.node('Cast', [acc], [f'{p}{name}/acc_f'], to=TensorProto.FLOAT)
        scale = self.node('Mul', [xs, ws], [f'{p}{name}/scale'])
        return self.node('Mul', [accf, scale], [f'{p}{name}/out'])


def text_tower(g, p, w, quantized, ids='input_ids', mask='attention_mask'):
    if quantized:
        tq, ts, tz = g.quantize_int8(p + 'token_embedding', w['token_embedding'])
        emb_q = g.node('Gather', [tq, ids], [p + 'emb_q'])
        emb = g.node('DequantizeLinear', [emb_q, ts, tz], [p + 'emb'])
    else:
        emb = g.node('Gather', [g.init(p + 'token_embedding', w['token_embedding']), ids], [p + 'emb'])
    shape = g.node('Shape', [ids], [p + 'ids_shape'])
    seq = g.node('Gather', [shape, g.init(p + 'one', np.int64(1))], [p + 'seq_len'])
    positions = g.node('Range', [g.init(p + 'zero', np.int64(0)), seq, p + 'one'], [p + 'positions'])
    pos = g.node('Gather', [g.init(p + 'position_embedding', w['position_embedding']), positions], [p + 'pos'])
    hidden = g.node('Add', [emb, pos], [p + 'hidden_seq'])
    maskf = g.node('Cast', [mask], [p + 'mask_f'], to=TensorProto.FLOAT)
    mask3 = g.node('Unsqueeze', [maskf, g.init(p + 'axis2', np.array([2], np.int64))], [p + 'mask3'])
    masked = g.node('Mul', [hidden, mask3], [p + 'masked'])
    pooled = g.node('ReduceSum', [masked, g.init(p + 'axis1', np.array([1], np.int64))], [p + 'pooled'], keepdims=0)
    return g.matmul(p, pooled, 'text_projection', w['text_projection'], quantized), hidden


def vision_tower(g, p, w, quantized, pixels='pixel_values'):
    mean = g.node('ReduceMean', [pixels], [p + 'mean_colour'], axes=[2, 3], keepdims=0)
    patch = g.matmul(p, mean, 'patch_weight', w['patch_weight'], quantized)
    hidden = g.node('Add', [patch, g.init(p + 'patch_bias', w['patch_bias'])], [p + 'hidden'])
    seq = g.node('Unsqueeze', [hidden, g.init(p + 'axis1', np.array([1], np.int64))], [p + 'hidden_seq'])
    return g.matmul(p, hidden, 'visual_projection', w['visual_projection'], quantized), seq


def io(name, elem, dims):
    return helper.make_tensor_value_info(name, elem, dims)


def finish(g, name, inputs, outputs):
    graph = helper.make_graph(g.nodes, name, inputs, outputs, g.inits)
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid('', OPSET)], producer_name='moevl make_tiny_clip.py'
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def text_model(w, quantized):
    g = Graph()
    emb, hidden = text_tower(g, '', w, quantized)
    g.node('Identity', [emb], ['text_embeds'])
    g.node('Identity', [hidden], ['last_hidden_state'])
    b, s = 'batch_size', 'sequence_length'
    return finish(
        g,
        'tiny_clip_text',
        [io('input_ids', TensorProto.INT64, [b, s]), io('attention_mask', TensorProto.INT64, [b, s])],
        [io('text_embeds', TensorProto.FLOAT, [b, PROJ]), io('last_hidden_state', TensorProto.FLOAT, [b, s, HIDDEN])],
    )


def vision_model(w, quantized):
    g = Graph()
    emb, hidden = vision_tower(g, '', w, quantized)
    g.node('Identity', [emb], ['image_embeds'])
    g.node('Identity', [hidden], ['last_hidden_state'])
    b = 'batch_size'
    return finish(
        g,
        'tiny_clip_vision',
        [io('pixel_values', TensorProto.FLOAT, [b, 3, IMAGE, IMAGE])],
        [io('image_embeds', TensorProto.FLOAT, [b, PROJ]), io('last_hidden_state', TensorProto.FLOAT, [b, 1, HIDDEN])],
    )


def combined_model(w, quantized):
    g = Graph()
    text, _ = text_tower(g, 'text_model.', w, quantized)
    image, _ = vision_tower(g, 'vision_model.', w, quantized)

    def normalise(x, name):
        norm = g.node('ReduceL2', [x], [name + '_norm'], axes=[1], keepdims=1)
        return g.node('Div', [x, norm], [name])

    tn = normalise(text, 'text_embeds')
    im = normalise(image, 'image_embeds')
    scale = g.node('Exp', [g.init('logit_scale', np.float32(LOGIT_SCALE))], ['logit_scale_exp'])
    imt = g.node('Transpose', [im], ['image_embeds_t'], perm=[1, 0])
    sim = g.node('MatMul', [tn, imt], ['similarity'])
    g.node('Mul', [sim, scale], ['logits_per_text'])
    g.node('Transpose', ['logits_per_text'], ['logits_per_image'], perm=[1, 0])
    t, s, i = 'text_batch_size', 'sequence_length', 'image_batch_size'
    return finish(
        g,
        'tiny_clip',
        [
            io('input_ids', TensorProto.INT64, [t, s]),
            io('pixel_values', TensorProto.FLOAT, [i, 3, IMAGE, IMAGE]),
            io('attention_mask', TensorProto.INT64, [t, s]),
        ],
        [
            io('logits_per_image', TensorProto.FLOAT, [i, t]),
            io('logits_per_text', TensorProto.FLOAT, [t, i]),
            io('text_embeds', TensorProto.FLOAT, [t, PROJ]),
            io('image_embeds', TensorProto.FLOAT, [i, PROJ]),
        ],
    )


# ---------------------------------------------------------------- configs


def config_json(vocab):
    return {
        '_name_or_path': 'moevl/tiny-clip',
        'architectures': ['CLIPModel'],
        'model_type': 'clip',
        'initializer_factor': 1.0,
        'logit_scale_init_value': LOGIT_SCALE,
        'projection_dim': PROJ,
        'text_config': {
            'model_type': 'clip_text_model',
            'vocab_size': len(vocab),
            'hidden_size': HIDDEN,
            'intermediate_size': 2 * HIDDEN,
            'num_hidden_layers': 1,
            'num_attention_heads': 2,
            'max_position_embeddings': MAX_POS,
            'hidden_act': 'quick_gelu',
            'projection_dim': PROJ,
            'bos_token_id': vocab[BOS],
            'eos_token_id': vocab[EOS],
            'pad_token_id': vocab[EOS],
        },
        'vision_config': {
            'model_type': 'clip_vision_model',
            'hidden_size': HIDDEN,
            'intermediate_size': 2 * HIDDEN,
            'num_hidden_layers': 1,
            'num_attention_heads': 2,
            'num_channels': 3,
            'image_size': IMAGE,
            'patch_size': IMAGE,
            'hidden_act': 'quick_gelu',
            'projection_dim': PROJ,
        },
        'moevl_tiny_clip': {
            'note': 'Synthetic test fixture; see packages/vision/scripts/clip/make_tiny_clip.py for the design.',
            'features': ['red', 'green', 'blue', 'light', 'cat', 'dog', 'car', 'caption'],
            'caption_component': CAPTION,
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
        'model_max_length': MAX_POS,
        'pad_token': EOS,
        'tokenizer_class': 'CLIPTokenizer',
        'unk_token': EOS,
    }


# ---------------------------------------------------------------- prettier-shaped JSON

WIDTH = 110


def scalar(v):
    if isinstance(v, bool) or v is None:
        return json.dumps(v)
    if isinstance(v, float):
        text = repr(v)
        assert 'e' not in text and 'inf' not in text and 'nan' not in text, v
        return text
    return json.dumps(v, ensure_ascii=False)


def dump(v, indent=0, used=0, tail=0):
    """Objects always expanded (prettier keeps them so); arrays on one line when they fit, else one item a line."""
    pad = ' ' * indent
    if isinstance(v, dict):
        if not v:
            return '{}'
        items = list(v.items())
        lines = []
        for i, (k, x) in enumerate(items):
            key = f'{pad}  {json.dumps(k, ensure_ascii=False)}: '
            comma = ',' if i < len(items) - 1 else ''
            lines.append(key + dump(x, indent + 2, len(key), len(comma)) + comma)
        return '{\n' + '\n'.join(lines) + f'\n{pad}}}'
    if isinstance(v, list):
        assert not any(isinstance(x, list) for x in v), 'nested arrays are not laid out like prettier'
        if any(isinstance(x, dict) for x in v):
            inner = ',\n'.join(f'{pad}  {dump(x, indent + 2)}' for x in v)
            return f'[\n{inner}\n{pad}]'
        flat = '[' + ', '.join(scalar(x) for x in v) + ']'
        if used + len(flat) + tail <= WIDTH:
            return flat
        assert not all(isinstance(x, (int, float)) for x in v), 'long numeric arrays use prettier fill mode'
        inner = ',\n'.join(f'{pad}  {scalar(x)}' for x in v)
        return f'[\n{inner}\n{pad}]'
    return scalar(v)


def write_json(path, value):
    with open(path, 'w', encoding='utf-8') as f:
        f.write(dump(value) + '\n')


# ---------------------------------------------------------------- main


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default = os.path.normpath(os.path.join(here, '..', '..', 'test', 'fixtures', 'tiny-clip'))
    out = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else default
    os.makedirs(os.path.join(out, 'onnx'), exist_ok=True)

    vocab, merges = build_tokenizer()
    weights = build_weights(vocab)
    write_json(os.path.join(out, 'config.json'), config_json(vocab))
    write_json(os.path.join(out, 'tokenizer.json'), tokenizer_json(vocab, merges))
    write_json(os.path.join(out, 'tokenizer_config.json'), tokenizer_config_json())
    write_json(os.path.join(out, 'preprocessor_config.json'), preprocessor_config_json())
    for quantized in (False, True):
        suffix = '_quantized' if quantized else ''
        for name, build in (('text_model', text_model), ('vision_model', vision_model), ('model', combined_model)):
            onnx.save(build(weights, quantized), os.path.join(out, 'onnx', f'{name}{suffix}.onnx'))

    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out) for f in fs)
    print(f'wrote {out} ({total} bytes, vocab {len(vocab)}, {len(merges)} merges)')


if __name__ == '__main__':
    main()
