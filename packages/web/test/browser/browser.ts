/**
 * Debian's Chromium driven by playwright-core (never a downloaded browser): where it is, how to launch it, and the
 * reason browser tests cannot run when it is missing (the tests then skip with that reason).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = process.env.VIGIL_CHROMIUM ?? '/usr/bin/chromium';
export const WEB_DIST = fileURLToPath(new URL('../../dist/index.html', import.meta.url));
export const SCREENSHOTS = fileURLToPath(new URL('../../screenshots/', import.meta.url));

/** Why the browser tests cannot run here, or null when they can. */
export function cannotRun(): string | null {
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (apt-get install chromium, or set VIGIL_CHROMIUM)`;
  if (!existsSync(WEB_DIST)) return `the console is not built (${WEB_DIST} missing): run npm run build`;
  return null;
}

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-quic',
      '--no-first-run',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}
