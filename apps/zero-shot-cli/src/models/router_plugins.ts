import { createRouterRegistry, defaultRouterRegistry, loadRouterPlugin } from '@moevl/router';
import type { RouterRegistry, RouterStrategy } from '@moevl/router';
import { InputError } from '../errors.js';
import { findDuplicateTfjs, hostTfjsCoreRoot, shareHostPackages } from './host_packages.js';

/**
 * Loads every `--router-plugin` (a file path or a package name) into `registry` — by default the one
 * models are rebuilt with, so a checkpoint trained with a third-party router loads after its plugin.
 * Each plugin is imported into a scratch registry first: a strategy that is already registered as the
 * very same object (the same plugin loaded twice in one process) is skipped instead of reported as a
 * clash, while a different strategy under a taken name is still an error. A plugin from another project
 * uses the command's TensorFlow.js and `@moevl/*` (see `host_packages.ts`); one that brings its own copy
 * anyway is an error naming that copy.
 */
export async function loadRouterPlugins(
  specifiers: readonly string[],
  registry: RouterRegistry = defaultRouterRegistry,
): Promise<RouterStrategy[]> {
  const loaded: RouterStrategy[] = [];
  if (specifiers.length > 0) shareHostPackages();
  for (const specifier of specifiers) {
    const scratch = createRouterRegistry({ builtins: false });
    let strategies: RouterStrategy[];
    try {
      strategies = await loadRouterPlugin(specifier, { registry: scratch, cwd: process.cwd() });
    } catch (err) {
      throw new InputError(`--router-plugin: ${(err as Error).message}`);
    }
    const duplicate = findDuplicateTfjs();
    if (duplicate !== null) {
      throw new InputError(
        `--router-plugin ${specifier}: it loaded a second copy of TensorFlow.js (${duplicate}) beside the ` +
          `zero-shot command's (${hostTfjsCoreRoot() ?? 'unknown'}); make @tensorflow/tfjs a peerDependency ` +
          "of the plugin (or remove its own copy) so it uses the command's.",
      );
    }
    for (const s of strategies) {
      if (registry.has(s.name) && registry.get(s.name) === s) continue;
      try {
        registry.register(s);
      } catch (err) {
        throw new InputError(`--router-plugin ${specifier}: ${(err as Error).message}`);
      }
    }
    loaded.push(...strategies);
  }
  return loaded;
}
