/**
 * The command registry: every module in `commands/` (built `.js`, or `.ts` when run from source by the tests)
 * that exports `command`. Modules are imported on demand; a command loads its heavy dependencies (the engine,
 * the compiler) inside `run`, so `vigil help` stays fast.
 */
import { readdir } from 'node:fs/promises';
import type { Command } from './command.js';

const COMMANDS_DIR = new URL('./commands/', import.meta.url);
const MODULE = /^([a-z][a-z0-9-]*)\.(js|ts)$/;

/** Command names → module file names, from the folder listing. */
async function listModules(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const file of await readdir(COMMANDS_DIR)) {
    if (file.endsWith('.d.ts')) continue;
    const m = MODULE.exec(file);
    if (m?.[1] && !out.has(m[1])) out.set(m[1], file);
  }
  return out;
}

export async function commandNames(): Promise<string[]> {
  return [...(await listModules()).keys()].sort();
}

export async function loadCommand(name: string): Promise<Command | undefined> {
  const file = (await listModules()).get(name);
  if (!file) return undefined;
  const mod = (await import(new URL(file, COMMANDS_DIR).href)) as { command?: Command };
  if (!mod.command || mod.command.name !== name) {
    throw new Error(`commands/${file} must export \`command\` named ${name}`);
  }
  return mod.command;
}

export async function allCommands(): Promise<Command[]> {
  const out: Command[] = [];
  for (const name of await commandNames()) {
    const c = await loadCommand(name);
    if (c) out.push(c);
  }
  return out;
}
