import { parseArgs } from 'node:util';
import { createRouterRegistry } from '@moevl/router';
import { loadRouterPlugins } from '../models/router_plugins.js';
import { toJson } from '../render/format.js';
import type { IO } from './common.js';

export const ROUTERS_HELP = `zero-shot routers — list the router strategies MoE layers can use

Usage:
  zero-shot routers [--router-plugin SPEC]... [--json]

Lists the built-in strategies and those of the given plugins: name, version and description.

Options:
  --router-plugin SPEC   a plugin module (a file path or a package name) exporting a v1 RouterStrategy
                         as default, routerStrategy or routerStrategies; repeatable
  --json                 print the list as JSON
  -h, --help             this text

Exit codes: 0 ok, 2 a usage error or a plugin that cannot be loaded.`;

export async function runRoutersCommand(argv: string[], io: IO): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      'router-plugin': { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
    },
  });
  // A fresh registry: the listing shows exactly the built-ins plus what these flags load.
  const registry = createRouterRegistry();
  await loadRouterPlugins(values['router-plugin'] ?? [], registry);
  const strategies = registry.names().map((name) => {
    const s = registry.get(name);
    return { name: s.name, version: s.version ?? null, description: s.description ?? null };
  });
  if (values.json) {
    io.out.write(toJson({ routers: strategies }));
    return 0;
  }
  const nameWidth = Math.max(...strategies.map((s) => s.name.length));
  const versionWidth = Math.max(...strategies.map((s) => (s.version ?? '-').length));
  for (const s of strategies) {
    io.out.write(
      `${s.name.padEnd(nameWidth)}  ${(s.version ?? '-').padEnd(versionWidth)}  ${s.description ?? ''}\n`,
    );
  }
  return 0;
}
