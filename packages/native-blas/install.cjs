// Install step: build the addon with node-gyp where a C++ compiler and a CBLAS exist, and never fail the
// install. Whatever happens is written to build/moevl-install.txt (first line `ok` or `not built: <why>`),
// which the loader reports, so `zero-shot backend` can say why the native path is not used.
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync, mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const here = __dirname;
const buildDir = path.join(here, 'build');
const statusFile = path.join(buildDir, 'moevl-install.txt');

function finish(status, log = '') {
  mkdirSync(buildDir, { recursive: true });
  writeFileSync(statusFile, `${status}\n${log}`);
  process.stderr.write(
    status === 'ok'
      ? '@moevl/native-blas: built; moevl runs matrix products on the native BLAS\n'
      : `@moevl/native-blas: ${status}; moevl will use the wasm kernels\n`,
  );
  process.exit(0);
}

/** The node-gyp that npm ships (npm sets npm_config_node_gyp for lifecycle scripts), else one on PATH. */
function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(
      path.dirname(process.execPath),
      '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
    ),
  ];
  for (const c of candidates) if (c && existsSync(c)) return [process.execPath, c];
  return ['node-gyp'];
}

/**
 * Headers of the running Node, when they sit beside the binary (distribution packages, official tarballs).
 * Without them node-gyp downloads the headers, which fails offline.
 */
function localNodeDir() {
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  try {
    const h = readFileSync(path.join(prefix, 'include/node/node_version.h'), 'utf8');
    const v = ['MAJOR', 'MINOR', 'PATCH'].map(
      (p) => h.match(new RegExp(`define NODE_${p}_VERSION (\\d+)`))?.[1],
    );
    if (`v${v.join('.')}` === process.version && existsSync(path.join(prefix, 'include/node/node_api.h'))) {
      return prefix;
    }
  } catch {
    // No local headers: node-gyp uses its cache or downloads them.
  }
  return undefined;
}

/** The first line of a build log that says what a user can fix. */
function reasonFrom(log) {
  if (/cblas\.h: No such file|'cblas\.h' file not found/.test(log)) {
    return 'no CBLAS headers (cblas.h); on Debian/Ubuntu: apt-get install libopenblas-dev';
  }
  if (/cannot find -lopenblas|library not found for -lopenblas/.test(log)) {
    return 'no OpenBLAS library to link; on Debian/Ubuntu: apt-get install libopenblas-dev';
  }
  if (
    /No such file or directory: '[^']*(g\+\+|c\+\+|clang\+\+|cc|make)'|(g\+\+|c\+\+|make): (command )?not found|not found: make/.test(
      log,
    )
  ) {
    return 'no C++ compiler or make (on Debian/Ubuntu: apt-get install build-essential)';
  }
  if (/gyp ERR! find Python|Could not find any Python/.test(log)) return 'node-gyp found no Python 3';
  if (/getaddrinfo|ENOTFOUND|ECONNREFUSED|ETIMEDOUT/.test(log)) {
    return 'node-gyp could not download the Node headers (offline, and none beside the node binary)';
  }
  const lines = log.split('\n');
  const err = lines.find((l) => /\berror:/i.test(l)) ?? lines.find((l) => /ERR!/.test(l));
  return `node-gyp failed: ${(err ?? log.trim().split('\n').pop() ?? 'unknown error').trim().slice(0, 200)}`;
}

if (process.env.MOEVL_NATIVE === '0') finish('not built: MOEVL_NATIVE=0 at install');
if (process.platform !== 'linux' && process.platform !== 'darwin') {
  finish(`not built: no CBLAS wiring for ${process.platform} (Linux OpenBLAS and macOS Accelerate only)`);
}
const [cmd, ...pre] = nodeGyp();
const nodedir = localNodeDir();
const args = [...pre, 'rebuild', ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
const run = spawnSync(cmd, args, { cwd: here, encoding: 'utf8', timeout: 600_000, env: process.env });
const log = `${cmd} ${args.join(' ')}\n${run.stdout ?? ''}${run.stderr ?? ''}${run.error ? String(run.error) : ''}`;
if (run.status !== 0) finish(`not built: ${reasonFrom(log)}`, log);

// Built: check it loads (the BLAS shared library must be found at run time too).
const probe = spawnSync(
  process.execPath,
  ['-e', `const a = require(${JSON.stringify(path.join(buildDir, 'Release/moevl_blas.node'))}); a.info();`],
  { encoding: 'utf8', timeout: 60_000 },
);
if (probe.status !== 0) {
  finish(`not built: the addon built but does not load: ${(probe.stderr || '').trim().split('\n')[0]}`, log);
}
finish('ok', log);
