/**
 * What a `vigil` command is. A command is one module in `commands/<name>.ts` exporting `command`; the registry
 * finds it by file name, so adding a command touches no other file.
 */
import { parseArgs } from 'node:util';

export interface CliIO {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** Progress lines are only drawn when stderr is a terminal. */
  readonly stderrIsTTY: boolean;
  readonly cwd: string;
}

/** Exit codes shared by all commands. */
export const EXIT = {
  ok: 0,
  /** The command ran and failed (I/O, engine, query error). */
  failure: 1,
  /** Wrong arguments: nothing was done. */
  usage: 2,
  /** Done, but partly: e.g. rows that could not be coerced were rejected. */
  partial: 3,
} as const;

export type OptionSpec = Readonly<Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>>;

export interface Command {
  readonly name: string;
  /** One line for `vigil help`. */
  readonly summary: string;
  /** The full usage text for `vigil help <name>` and usage errors. */
  readonly usage: string;
  readonly options: OptionSpec;
  run(args: ParsedArgs, io: CliIO): Promise<number>;
}

export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>;
  readonly positionals: readonly string[];
}

/** A mistake in the command line: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function parseCommandArgs(command: Command, argv: readonly string[]): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as ParsedArgs['values'], positionals };
  } catch (e) {
    // node:util's messages are clear ("Unknown option '--x'"); drop its hint about `--` for positionals.
    throw new UsageError((e as Error).message.split('. To specify a positional')[0] ?? String(e));
  }
}

export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function requiredOption(args: ParsedArgs, name: string): string {
  const v = stringOption(args, name);
  if (v === undefined || v === '') throw new UsageError(`missing --${name}`);
  return v;
}
