#!/usr/bin/env node
/**
 * `vigil`: dispatches `vigil <command> [options]` to `commands/<command>.ts`. `vigil help` lists the commands;
 * `vigil help <command>` and `vigil <command> --help` print a command's usage. Exit codes: see EXIT.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type CliIO, type Command, EXIT, parseCommandArgs, UsageError } from './command.js';
import { allCommands, commandNames, loadCommand } from './registry.js';

export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === 'help' || first === '--help' || first === '-h') {
    return help(rest[0], io);
  }
  if (first === '--version' || first === '-v') {
    io.stdout.write(`vigil ${version()}\n`);
    return EXIT.ok;
  }
  const command = await loadCommand(first);
  if (!command) {
    io.stderr.write(`vigil: unknown command '${first}'. Commands: ${(await commandNames()).join(', ')}\n`);
    return EXIT.usage;
  }
  try {
    const args = parseCommandArgs(command, rest);
    if (args.values.help) {
      io.stdout.write(`${command.usage.trimEnd()}\n`);
      return EXIT.ok;
    }
    return await command.run(args, io);
  } catch (e) {
    if (e instanceof UsageError) {
      const synopsis = command.usage.split('\n')[0] ?? '';
      io.stderr.write(
        `vigil ${command.name}: ${e.message}\n${synopsis}\nRun 'vigil help ${command.name}' for details.\n`,
      );
      return EXIT.usage;
    }
    io.stderr.write(`vigil ${command.name}: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT.failure;
  }
}

async function help(name: string | undefined, io: CliIO): Promise<number> {
  if (name) {
    const command = await loadCommand(name);
    if (!command) {
      io.stderr.write(`vigil: unknown command '${name}'\n`);
      return EXIT.usage;
    }
    io.stdout.write(`${command.usage.trimEnd()}\n`);
    return EXIT.ok;
  }
  const commands: Command[] = await allCommands();
  const width = Math.max(4, ...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  io.stdout.write(
    `vigil ${version()}: a self-hosted SOC with KQL\n\nUsage: vigil <command> [options]\n\nCommands:\n` +
      `${lines.join('\n')}\n  ${'help'.padEnd(width)}  Show this list, or a command's usage: vigil help <command>\n`,
  );
  return EXIT.ok;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

// Run when executed (also through the npm bin symlink), not when imported by tests.
if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  runCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    stderrIsTTY: process.stderr.isTTY === true,
    cwd: process.cwd(),
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`vigil: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = EXIT.failure;
    },
  );
}
