import { COMMANDS } from './commands/index.js';

/** The overview printed by `zero-shot --help`: every command with one usage line and what it does. */
export function overviewHelp(): string {
  const commands = Object.values(COMMANDS)
    .map((c) => `  ${c.usage}\n      ${c.summary}`)
    .join('\n');
  return `zero-shot — zero-shot evaluation of mixture-of-experts vision-language models

Usage:
  zero-shot <command> [options]
  zero-shot <command> --help     all options of a command

Commands:
${commands}

Examples:
  zero-shot demo
  zero-shot eval --model Xenova/clip-vit-base-patch32 --data /data/imagenet/val --layout kaggle \\
    --templates openai80 --out results.json

Common options:
  --backend NAME   tensorflow-gpu | tensorflow | wasm | cpu (default: the fastest that loads;
                   the MOEVL_BACKEND environment variable sets it too)
  --json           print only JSON on stdout (logs and progress go to stderr)
  --quiet          no progress output
  -h, --help       help (of a command, after its name)
  -v, --version    the version

Exit codes: 0 ok, 1 the task failed, 2 a usage or input error.`;
}
