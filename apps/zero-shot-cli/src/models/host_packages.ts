import { createRequire, register } from 'node:module';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * One TensorFlow.js (and one `@moevl/*`) in the process, whichever project a router plugin lives in:
 * `shareHostPackages` installs the resolution hook of `host_packages_hook.ts` before the first plugin is
 * imported, and `findDuplicateTfjs` names a second copy that got in anyway (a CommonJS plugin's
 * `require`, which the hook does not see on Node 20).
 */

const SHARED = ['@tensorflow/', '@moevl/'];
const require = createRequire(import.meta.url);
let installed = false;

/** The folder of the `node_modules` that holds a package the command resolves, or null. */
function packageRoot(name: string): string | null {
  try {
    const file = realpathSync(require.resolve(name));
    const marker = `${sep}node_modules${sep}${name.split('/').join(sep)}${sep}`;
    const at = file.lastIndexOf(marker);
    if (at >= 0) return file.slice(0, at + marker.length);
    // A workspace package (symlinked): the folder holding its package.json.
    let dir = dirname(file);
    while (dir !== dirname(dir)) {
      try {
        require.resolve(join(dir, 'package.json'));
        return dir + sep;
      } catch {
        dir = dirname(dir);
      }
    }
    return null;
  } catch {
    return null;
  }
}

/** Where the command's own copy of TensorFlow.js' core lives. */
export function hostTfjsCoreRoot(): string | null {
  return packageRoot('@tensorflow/tfjs-core');
}

/** Installs the hook (once per process); later `import()`s of plugins resolve shared packages to ours. */
export function shareHostPackages(): void {
  if (installed) return;
  installed = true;
  const hook = new URL('./host_packages_hook.js', import.meta.url);
  // Run from TypeScript sources (the CLI's own in-process tests) there is no compiled hook to load.
  if (!existsSync(fileURLToPath(hook))) return;
  const cliRoot = fileURLToPath(new URL('../../', import.meta.url));
  const roots = [realpathSync(cliRoot) + sep];
  for (const name of [
    '@tensorflow/tfjs',
    '@tensorflow/tfjs-core',
    '@moevl/core',
    '@moevl/router',
    '@moevl/vision',
    '@moevl/limoe',
  ]) {
    const root = packageRoot(name);
    if (root == null) continue;
    // The node_modules folder holding a dependency holds its dependencies too.
    const nm = root.lastIndexOf(`${sep}node_modules${sep}`);
    roots.push(nm >= 0 ? root.slice(0, nm + `${sep}node_modules${sep}`.length) : root);
  }
  register(hook, {
    data: {
      parentURL: import.meta.url,
      hostRoots: [...new Set(roots)].map((r) => pathToFileURL(r).href.replace(/\/?$/, '/')),
      shared: SHARED,
    },
  });
}

/** A loaded copy of `@tensorflow/tfjs-core` other than the command's (CommonJS modules only), or null. */
export function findDuplicateTfjs(): string | null {
  const ours = hostTfjsCoreRoot();
  const marker = `${sep}node_modules${sep}@tensorflow${sep}tfjs-core${sep}`;
  for (const file of Object.keys(require.cache)) {
    const at = file.indexOf(marker);
    if (at < 0) continue;
    const root = file.slice(0, at + marker.length);
    if (root !== ours) return root;
  }
  return null;
}
