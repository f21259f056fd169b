// What every side-by-side benchmark against PyTorch shares (not a test): finding a Python with torch,
// PyTorch as a child server timed call by call, the machine and its load, and best/median statistics.
// Used by bench/gemm.mjs here and, by relative path, by @moevl/router's and @moevl/limoe's benchmarks.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { createInterface } from 'node:readline';

export const cores = availableParallelism();

/** `{ py }`: the first interpreter that imports torch (MOEVL_BENCH_PYTHON, python3, /usr/bin/python3), or `{ why }`. */
export function findPython() {
  const candidates = process.env.MOEVL_BENCH_PYTHON
    ? [process.env.MOEVL_BENCH_PYTHON]
    : ['python3', '/usr/bin/python3'];
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import torch'], {
      encoding: 'utf8',
      env: { ...process.env, OPENBLAS_NUM_THREADS: '1' },
    });
    if (r.status === 0) return { py };
  }
  return {
    why: `no Python with torch among ${candidates.join(', ')} (Debian: apt-get install python3-torch)`,
  };
}

/**
 * The PyTorch settings every side-by-side bench times, so that moevl is compared with PyTorch's fastest one
 * here, never a handicapped one: torch threads (`set_num_threads`) × the BLAS's threads
 * (`OPENBLAS_NUM_THREADS`; Debian's torch runs its matrix products on OpenBLAS). With the BLAS on one thread
 * only the element-wise work runs in parallel; with both at `cores` the two pools can oversubscribe the cores.
 */
export function torchSettings(n = cores) {
  const all = [
    { threads: n, blas: 1 },
    { threads: 1, blas: 1 },
    { threads: 1, blas: n },
    { threads: n, blas: n },
  ];
  return all.filter((s, i) => all.findIndex((o) => o.threads === s.threads && o.blas === s.blas) === i);
}

/** A setting's short name in result keys and table heads: `2t/1b` = 2 torch threads, BLAS on 1. */
export const settingName = (s) => `${s.threads}t/${s.blas}b`;

/**
 * A PyTorch server (`script threads`, with OPENBLAS_NUM_THREADS=blas): it prints `ready <version>`, then
 * answers each request line with the seconds the work took inside Python, or `err <message>`. `first` is
 * written before anything else (e.g. a batch as JSON). `time(request)` resolves to milliseconds.
 */
export async function startTorch(py, script, threads, first, blas = 1) {
  const child = spawn(py, [script, String(threads)], {
    env: { ...process.env, OPENBLAS_NUM_THREADS: String(blas) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  if (first != null) child.stdin.write(`${first}\n`);
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error('the PyTorch child exited');
    return value;
  };
  const hello = await next();
  return {
    version: hello.replace(/^ready /, ''),
    async time(request) {
      child.stdin.write(`${request}\n`);
      const line = await next();
      if (line.startsWith('err')) throw new Error(`PyTorch: ${line}`);
      return Number(line) * 1000;
    },
    stop: () => child.stdin.end(),
  };
}

/** Other processes by share of a CPU (ps' lifetime average), to say what the machine was busy with. */
export function topProcesses() {
  try {
    const out = execFileSync('ps', ['-eo', 'pid,pcpu,args', '--sort=-pcpu', '--no-headers'], {
      encoding: 'utf8',
    });
    return (
      out
        .trim()
        .split('\n')
        .map((l) => l.trim().split(/\s+/))
        .filter(([pid, cpu]) => Number(pid) !== process.pid && Number(cpu) >= 5)
        .slice(0, 4)
        .map(([, cpu, ...args]) => `${cpu}% \`${args.slice(0, 2).join(' ').slice(0, 60)}\``)
        .join(', ') || 'none over 5%'
    );
  } catch {
    return 'unknown (no ps)';
  }
}

export function machineLine() {
  return `${cpus()[0]?.model ?? 'unknown cpu'}, ${cores} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`;
}

/** Load averages as `a / b / c`. */
export const loadLine = (l = loadavg()) => l.map((x) => x.toFixed(2)).join(' / ');

/** Starts a load record: call `.end()` after measuring for the sentence RESULTS.md keeps. */
export function loadRecord() {
  const before = loadLine();
  const busy = topProcesses();
  return {
    before,
    busy,
    end() {
      return (
        `**Load while measured**: load average (1/5/15 min) ${before} before, ${loadLine()} after; other ` +
        `processes before (ps %CPU): ${busy}. Numbers taken under load are lower and noisier than on a quiet machine.`
      );
    },
  };
}

/** Best (smallest) and median of a list of times. */
export function stats(ms) {
  const s = [...ms].sort((a, b) => a - b);
  return { best: s[0], median: s[Math.floor(s.length / 2)] };
}

/** `x.xx× / y.yy×`: the ratio `f(a, b)` on best and on median. */
export function ratio(a, b, f = (x, y) => x / y) {
  return a && b ? `${f(a.best, b.best).toFixed(2)}× / ${f(a.median, b.median).toFixed(2)}×` : '–';
}

/** Runs `rounds` rounds calling every engine once, alternating the order, after `warmup` calls each. */
export async function interleave(engines, rounds, warmup = 2) {
  const times = Object.fromEntries(engines.map((e) => [e.name, []]));
  for (const e of engines) for (let i = 0; i < warmup; i++) await e.run();
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? engines : [...engines].reverse();
    for (const e of order) times[e.name].push(await e.run());
  }
  return Object.fromEntries(engines.map((e) => [e.name, stats(times[e.name])]));
}
