import { existsSync } from 'node:fs';

/** What to do where no Chromium is found (the browser test is skipped with this). */
export const CHROMIUM_HINT =
  "no Chromium found: install Debian's chromium package (apt-get install chromium), or set CHROMIUM_PATH " +
  'to a Chromium or Chrome executable';

const CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
];

/** `CHROMIUM_PATH`, else the first system Chromium that exists; null when there is none. */
export function findChromium(): string | null {
  const env = process.env.CHROMIUM_PATH;
  if (env !== undefined && env !== '') {
    if (!existsSync(env)) throw new Error(`CHROMIUM_PATH=${env}: no such file.`);
    return env;
  }
  return CANDIDATES.find((p) => existsSync(p)) ?? null;
}
