import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * A router plugin developed in its own project, with its own copy of TensorFlow.js in its node_modules:
 * loaded by the built `zero-shot` command (a child process, as a user runs it), it must run on the
 * command's one engine — no second copy registering every kernel again — or, where Node cannot redirect
 * the import (CommonJS `require` on Node 20), be refused with a message naming the second copy.
 */
const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(root, 'apps/zero-shot-cli/dist/bin.js');
const project = mkdtempSync(join(tmpdir(), 'moevl-plugin-project-'));
afterAll(() => rmSync(project, { recursive: true, force: true }));

function makeProject(): void {
  const core = join(project, 'node_modules/@tensorflow/tfjs-core');
  mkdirSync(join(core, 'dist'), { recursive: true });
  const hostCore = join(root, 'node_modules/@tensorflow/tfjs-core');
  copyFileSync(join(hostCore, 'dist/tf-core.node.js'), join(core, 'dist/tf-core.node.js'));
  // Marks the plugin project's copy, so the plugin can tell which copy it got.
  appendFileSync(join(core, 'dist/tf-core.node.js'), "\nexports.__moevlCopy = 'plugin project';\n");
  writeFileSync(
    join(core, 'package.json'),
    JSON.stringify({ name: '@tensorflow/tfjs-core', version: '4.22.0', main: 'dist/tf-core.node.js' }),
  );
  for (const dep of ['seedrandom', 'node-fetch']) {
    symlinkSync(join(root, 'node_modules', dep), join(project, 'node_modules', dep));
  }
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'my-plugin', type: 'module' }));
  const strategy = (name: string) =>
    `{ specificationVersion: 'v1', name: '${name}', version: '1.0.0',
       description: 'tfjs from ' + (tf.__moevlCopy ?? 'the zero-shot command'),
       validateOptions: (o) => o, create: () => { throw new Error('unused'); } }`;
  writeFileSync(
    join(project, 'plugin.mjs'),
    `import * as tf from '@tensorflow/tfjs-core';\nexport default ${strategy('esm-router')};\n`,
  );
  writeFileSync(
    join(project, 'plugin.cjs'),
    `const tf = require('@tensorflow/tfjs-core');\nmodule.exports = { routerStrategy: ${strategy('cjs-router')} };\n`,
  );
}

const zeroShot = (args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], { cwd: project, encoding: 'utf8' });

describe('a router plugin from another project', () => {
  makeProject();

  it('(ESM) runs on the command’s TensorFlow.js, with no duplicate-kernel warnings', () => {
    const r = zeroShot(['routers', '--router-plugin', './plugin.mjs', '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/already registered|already been set/);
    const { routers } = JSON.parse(r.stdout);
    expect(routers).toContainEqual({
      name: 'esm-router',
      version: '1.0.0',
      description: 'tfjs from the zero-shot command',
    });
  });

  it('(CommonJS, its own copy) is refused naming the second copy, exit 2', () => {
    const r = zeroShot(['routers', '--router-plugin', './plugin.cjs']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/second copy of TensorFlow\.js \(.*moevl-plugin-project-.*tfjs-core/);
    expect(r.stderr).toMatch(/peerDependency/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
