#!/usr/bin/env node
// The `zero-shot` command. This file is committed (not built) so that npm links the command at install
// time, before anything is compiled; it runs the compiled CLI, or says how to build it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(fileURLToPath(compiled))) {
  process.stderr.write(
    'zero-shot: the CLI is not built yet; run "npm run build" (or "npm run demo") in the moevl checkout first.\n',
  );
  process.exit(2);
}
await import(compiled.href);
