import { existsSync } from 'node:fs';

/** Where a headless Chromium might be: CHROMIUM_PATH first, then Debian's and Google's usual paths. */
const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** The first Chromium executable that exists, or undefined when there is none. */
export function findChromium(): string | undefined {
  const fromEnv = process.env.CHROMIUM_PATH?.trim();
  return [fromEnv, ...CANDIDATES].find((path): path is string => Boolean(path) && existsSync(path!));
}
