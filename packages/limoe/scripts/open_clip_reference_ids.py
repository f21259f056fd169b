#!/usr/bin/env python3
"""Token ids of open_clip's own tokenizer for the captions of the CLIP-tokenizer test, as a JSON fixture.

    python3 -m venv /tmp/ocvenv
    /tmp/ocvenv/bin/pip install --no-index --find-links /opt/pypi/files ftfy regex numpy
    /tmp/ocvenv/bin/python packages/limoe/scripts/open_clip_reference_ids.py \
        /opt/pypi/files/open_clip_torch-3.3.0-py3-none-any.whl > packages/limoe/test/fixtures/open_clip_ids.json

open_clip's tokenizer module imports torch only to build its output tensor; torch is not installed here, so
a stand-in that builds that tensor with numpy is put in its place (the ids come from `SimpleTokenizer.encode`
and its truncation rule, which are plain Python). The wheel is read as a zip on sys.path, unpacked nowhere.
"""

import json
import sys
import types

import numpy as np

wheel = sys.argv[1]
torch = types.ModuleType("torch")
torch.long = np.int64
torch.LongTensor = np.ndarray
torch.Tensor = np.ndarray
torch.zeros = lambda *shape, dtype=None: np.zeros(shape, dtype=np.int64)
torch.tensor = lambda data, dtype=None: np.array(data, dtype=np.int64)
sys.modules["torch"] = torch
sys.path.insert(0, wheel)

import zipfile  # noqa: E402
import importlib.util  # noqa: E402
import tempfile  # noqa: E402
import os  # noqa: E402

# The module reads its vocabulary through a file path, so the .gz is copied out of the wheel to a temp file,
# and only tokenizer.py is imported (open_clip/__init__ would import the models, which need torch).
with zipfile.ZipFile(wheel) as z:
    source = z.read("open_clip/tokenizer.py").decode("utf-8")
    vocab = z.read("open_clip/bpe_simple_vocab_16e6.txt.gz")
tmp = tempfile.mkdtemp()
with open(os.path.join(tmp, "bpe_simple_vocab_16e6.txt.gz"), "wb") as f:
    f.write(vocab)
spec = importlib.util.spec_from_loader("open_clip_tokenizer", loader=None)
module = importlib.util.module_from_spec(spec)
module.__file__ = os.path.join(tmp, "tokenizer.py")
exec(compile(source, module.__file__, "exec"), module.__dict__)

CAPTIONS = [
    "a photo of a cat.",
    "A photo of a Dog",
    "a bad photo of the goldfish.",
    "itap of a tench.",
    "a black and white photo of the ankle boot.",
    "This is a photo of a large red double-decker bus in London",
    "Two people riding bicycles down a street, 2024.",
    "Hello World!!  How are you?",
    "don't stop; we're here, they've gone, I'm fine, you'll see, he'd know",
    "It\u2019s a \u201cquoted\u201d caption",
    "caf\u00e9 na\u00efve fa\u00e7ade r\u00e9sum\u00e9",
    "cafe\u0301 with a combining accent",
    "Fish &amp; chips &quot;to go&quot; &lt;b&gt;",
    "a    caption\twith\ttabs\nand newlines  ",
    "numbers 1234567890 and 3.14159 and 1,000,000",
    "an emoji \U0001f431 and \U0001f44d\U0001f3fd",
    "\u4e00\u53ea\u732b\u5728\u7761\u89c9",
    "\u0421\u043e\u0431\u0430\u043a\u0430 \u043d\u0430 \u043f\u043b\u044f\u0436\u0435",
    "\u03b1\u03b2\u03b3 greek letters",
    "ALL CAPS CAPTION WITH PUNCTUATION?!",
    "hyphen-ated words and under_scores and slashes/too",
    "email@example.com and https://example.com/path?q=1",
    "a photo of a t-shirt.",
    "the 10th of March, 1999",
    "#hashtag @mention $100 50% off",
    "(parenthesised) [bracketed] {braced}",
    "ellipsis... and em\u2014dash and en\u2013dash",
    "...",
    "",
    "x",
    "a" * 40,
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "a photo of a " + " ".join(["very"] * 80) + " long caption that is cut at 77 tokens",
    "a photo containing exactly seventy five words " + " ".join(["word"] * 68),
    "naïve résumé \u00c5ngstr\u00f6m \u00df straße",
    "tab\u00a0non-breaking\u2003em-space",
    "mixed CASE In Every WoRd",
    "a dog's ball and the dogs' balls",
    "a photo of the 'quoted' thing",
    "x-ray of a hand, 3d render, 8k",
]

tok = module.SimpleTokenizer(bpe_path=os.path.join(tmp, "bpe_simple_vocab_16e6.txt.gz"))
rows = []
for caption in CAPTIONS:
    ids = tok([caption], context_length=77)[0].tolist()
    rows.append({"text": caption, "ids": ids})
json.dump({"source": os.path.basename(wheel), "contextLength": 77, "captions": rows}, sys.stdout, ensure_ascii=False)
sys.stdout.write("\n")
