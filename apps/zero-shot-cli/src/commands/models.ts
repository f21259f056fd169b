import { parseArgs } from 'node:util';
import { defaultModelFamilies } from '@moevl/vision';
import { toJson } from '../render/format.js';
import type { IO } from './common.js';

export const MODELS_HELP = `zero-shot models — list the model families and the builtin models

Usage:
  zero-shot models [--json]

A --model value is resolved through the model families: a model file by the format in its header, any
other value by the family that claims it (builtin:NAME → limoe; a CLIP folder or a hub id → clip).
The model configs are architectures to train from ("zero-shot train --model NAME", or the path of a
JSON file in the same form).

Options:
  --json       print the list as JSON
  -h, --help   this text

Exit codes: 0 ok, 2 a usage error.`;

export async function runModelsCommand(argv: string[], io: IO): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: { json: { type: 'boolean', default: false } },
  });
  const families = defaultModelFamilies.list().map((f) => ({
    name: f.name,
    description: f.description ?? null,
    formats: [...(f.formats ?? [])],
    builtins: f.builtins?.() ?? [],
    configs: f.configs?.() ?? [],
  }));
  if (values.json) {
    io.out.write(toJson({ families }));
    return 0;
  }
  const lines: string[] = ['model families:'];
  for (const f of families) {
    const formats = f.formats.length > 0 ? ` (model files: ${f.formats.join(', ')})` : '';
    lines.push(`  ${f.name}${formats}: ${f.description ?? ''}`);
  }
  const builtins = families.flatMap((f) => f.builtins);
  lines.push('builtin models:');
  for (const b of builtins) lines.push(`  ${b.name}: ${b.description}`);
  if (builtins.length === 0) lines.push('  none installed');
  const configs = families.flatMap((f) => f.configs);
  if (configs.length > 0) {
    lines.push('model configs (zero-shot train --model NAME):');
    const width = Math.max(...configs.map((c) => c.name.length));
    for (const c of configs) lines.push(`  ${c.name.padEnd(width)}  ${c.description}`);
  }
  io.out.write(lines.join('\n') + '\n');
  return 0;
}
