// Loader for the addon. Never throws: it returns the addon, or why it is not available.
'use strict';
const { existsSync, readFileSync } = require('node:fs');
const path = require('node:path');

const addonPath = path.join(__dirname, 'build', 'Release', 'moevl_blas.node');
const statusPath = path.join(__dirname, 'build', 'moevl-install.txt');

/** Activation codes of gemm's descriptor (must match moevl_blas.cc). */
const ACTIVATIONS = Object.freeze({ linear: 0, relu: 1, relu6: 2, leakyrelu: 3, elu: 4, sigmoid: 5 });

function installStatus() {
  try {
    return readFileSync(statusPath, 'utf8').split('\n')[0];
  } catch {
    return undefined;
  }
}

function loadNativeBlas() {
  if (!existsSync(addonPath)) {
    const status = installStatus();
    return {
      ok: false,
      reason:
        status && status !== 'ok'
          ? status
          : 'not built (run `npm rebuild @moevl/native-blas`, or allow its install script)',
    };
  }
  try {
    const addon = require(addonPath);
    return { ok: true, addon, info: addon.info(), path: addonPath };
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    return { ok: false, reason: `failed to load: ${msg.split('\n')[0]}` };
  }
}

module.exports = { loadNativeBlas, ACTIVATIONS };
