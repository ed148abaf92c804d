#!/usr/bin/env -S node --single-threaded-gc --max-semi-space-size=64
/**
 * The `vigil` bin (`npx vigil ...`). npm links a package's bins at install time only if their files exist, and
 * `dist/` is built after `npm ci`: this committed launcher is what gets linked, and it runs the built CLI.
 *
 * V8 flags (the first line; they can only be given on the command line): garbage collection on the main thread
 * only, with a larger young generation. On the small machines Vigil targets, DuckDB keeps every core busy during
 * loads and queries, and V8's parallel GC helpers competed with it: `vigil serve` took ~20% more rows/s over HTTP
 * with these flags (bench/ingest, 2 cores). Run `node` with the same flags when starting `dist/cli/main.js` directly.
 */
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write("vigil: the CLI is not built yet: run 'npm run build' first\n");
  process.exit(1);
}
const { runCli } = await import(main.href);
runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stderrIsTTY: process.stderr.isTTY === true,
  cwd: process.cwd(),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`vigil: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
