/**
 * `vigil demo`: the whole system with simulated data — server, content pack, a sign-in, and a company's activity
 * with attack stories streamed through the ingestion API — until Ctrl-C. See `demo/runner.ts`.
 */
import { resolve } from 'node:path';
import { type Command, EXIT, stringOption, UsageError } from '../command.js';

function number(value: string | undefined, name: string, check: (n: number) => boolean): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || !check(n))
    throw new UsageError(`--${name}: invalid value '${value}'`);
  return n;
}

export const command: Command = {
  name: 'demo',
  summary: 'Run Vigil on simulated data: a company with attack stories, rules, incidents and automation',
  usage: `Usage: vigil demo [--data DIR] [--port P] [--speed S] [--seed N] [--devices N] [options]

Starts Vigil (embedded DuckDB + SQLite in DIR), installs the content pack (analytic rules, automation, threat
intelligence, watchlists), and streams a simulated company through the ingestion API: background activity of
its devices and users, an attack story every 5 simulated minutes (phishing, encoded PowerShell, C2, credential
dumping, lateral movement, impossible travel) and the Defender product alerts they raise. The first story starts
at once: incidents appear within seconds. Prints the console URL and the sign-in (a new password each start).
Stops on Ctrl-C (SIGINT) or SIGTERM.

Options:
  --data DIR        data folder (default ./.vigil-demo)
  --port P          http port (default 8080; 0: any free port)
  --host ADDR       address to bind (default 127.0.0.1)
  --speed S         simulated seconds per real second (default 1; e.g. 60: an hour a minute)
  --seed N          simulation seed (default 1): the same seed gives the same company and stories
  --devices N       workstations, one user each (default 200; five servers on top)
  --content DIR     content pack folder (default: the repository's content/)
  --duration SEC    stop after SEC seconds (default: run until Ctrl-C)
  --json            also print {url, workspace, user, password} as one JSON line on stdout (scripts)`,
  options: {
    data: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    speed: { type: 'string' },
    seed: { type: 'string' },
    devices: { type: 'string' },
    content: { type: 'string' },
    duration: { type: 'string' },
    json: { type: 'boolean' },
  },

  async run(args, io) {
    const dataDir = resolve(io.cwd, stringOption(args, 'data') ?? '.vigil-demo');
    const port = number(stringOption(args, 'port'), 'port', (n) => Number.isInteger(n) && n >= 0 && n <= 65535);
    const speed = number(stringOption(args, 'speed'), 'speed', (n) => n > 0 && n <= 100_000);
    const seed = number(stringOption(args, 'seed'), 'seed', (n) => Number.isInteger(n) && n >= 0 && n < 2 ** 32);
    const devices = number(
      stringOption(args, 'devices'),
      'devices',
      (n) => Number.isInteger(n) && n >= 2 && n <= 100_000,
    );
    const duration = number(stringOption(args, 'duration'), 'duration', (n) => n > 0);
    const content = stringOption(args, 'content');
    const started = Date.now();
    const say = (line: string) => io.stderr.write(`vigil demo: ${line}\n`);
    say(`starting in ${dataDir}`);
    const { startDemo } = await import('../../demo/runner.js');
    const demo = await startDemo({
      dataDir,
      host: stringOption(args, 'host') ?? '127.0.0.1',
      ...(port !== undefined ? { port } : {}),
      ...(speed !== undefined ? { speed } : {}),
      ...(seed !== undefined ? { seed } : {}),
      ...(devices !== undefined ? { devices } : {}),
      ...(content ? { contentDir: resolve(io.cwd, content) } : {}),
      log: say,
    });
    io.stderr.write(
      [
        '',
        `  Vigil is running (${((Date.now() - started) / 1000).toFixed(1)} s).`,
        `  Console:   ${demo.url}/`,
        `  Sign in:   ${demo.user} / ${demo.password}   (a new password every time the demo starts)`,
        `  Check it:  VIGIL_PASSWORD='${demo.password}' npx vigil validate --url ${demo.url} --user ${demo.user}`,
        '  Stop:      Ctrl-C',
        '',
        '',
      ].join('\n'),
    );
    if (args.values.json === true)
      io.stdout.write(
        `${JSON.stringify({ url: demo.url, workspace: demo.workspace, user: demo.user, password: demo.password })}\n`,
      );
    // Ctrl-C under `npx` arrives twice (from the terminal, and forwarded by npm): a repeat within 2 s is the same
    // request; a later one forces the exit.
    let first = 0;
    let stop: (why: string) => void = () => undefined;
    const onSignal = (sig: NodeJS.Signals) => {
      if (first === 0) {
        first = Date.now();
        stop(sig);
      } else if (Date.now() - first > 2000) {
        say(`${sig} again: exiting without waiting`);
        process.exit(130);
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const signal = await new Promise<string>((done) => {
      stop = done;
      if (duration !== undefined) setTimeout(() => done(`${duration} s elapsed`), duration * 1000).unref();
    });
    say(`${signal}: stopping the simulation, committing what was sent, closing (Ctrl-C again to exit at once)`);
    const stats = await demo.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    say(
      `stopped: ${stats.rowsSent.toLocaleString('en-US')} rows in ${stats.requests} requests` +
        `${stats.rowsRejected ? `, ${stats.rowsRejected} rejected` : ''}${stats.failedRequests ? `, ${stats.failedRequests} failed` : ''}, ` +
        `${stats.stories} attack stories`,
    );
    return stats.failedRequests > 0 || stats.rowsRejected > 0 ? EXIT.partial : EXIT.ok;
  },
};
