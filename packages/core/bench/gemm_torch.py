# PyTorch side of bench/gemm.mjs: a server that times one float32 GEMM per request, so the Node benchmark can
# interleave PyTorch call by call with its own paths. Protocol: one size n per line on stdin; the reply is
# the seconds one torch.mm(n×n, n×n) took (timed here, without the pipe), or "err <message>".
import sys
import time

import torch

threads = int(sys.argv[1]) if len(sys.argv) > 1 else torch.get_num_threads()
torch.set_num_threads(threads)
g = torch.Generator().manual_seed(0)
cache = {}
print(f"ready torch {torch.__version__}, {torch.get_num_threads()} threads", flush=True)
for line in sys.stdin:
    try:
        n = int(line)
        if n not in cache:
            a = torch.randn(n, n, generator=g)
            b = torch.randn(n, n, generator=g)
            torch.mm(a, b)  # warm-up
            cache[n] = (a, b)
        a, b = cache[n]
        t0 = time.perf_counter()
        torch.mm(a, b)
        print(time.perf_counter() - t0, flush=True)
    except Exception as e:  # noqa: BLE001 - report any failure to the caller
        print(f"err {e}", flush=True)
