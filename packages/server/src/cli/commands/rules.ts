/**
 * `vigil rules`: analytics rules and custom detections — import Sentinel YAML unchanged (with a per-rule report),
 * export, list, enable/disable, inline rule tests, replay over a past window, the run ledger, and one scheduler
 * pass without a server.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StoredFunction } from '@vigil/kql';
import type { TableDefinition } from '../../engine/engine.js';
import {
  type CliIO,
  type Command,
  EXIT,
  type ParsedArgs,
  requiredOption,
  stringOption,
  UsageError,
} from '../command.js';

const DEFAULT_SCHEMA = new URL('../../../../../content/schema/tables.json', import.meta.url);
const DEFAULT_CONTENT = new URL('../../../../../content/', import.meta.url);

/** The content pack's stored functions (`_GetWatchlist` over content/watchlists/), which some of its rules call. */
async function contentFunctions(): Promise<StoredFunction[]> {
  const { readWatchlists, watchlistFunction } = await import('../../workspaces/content.js');
  const lists = await readWatchlists(fileURLToPath(DEFAULT_CONTENT)).catch(() => []);
  return lists.length ? [watchlistFunction(lists)] : [];
}
/** The state store of a workspace folder (rules, runs, ledger; shared with the other metadata domains). */
export const STATE_FILE = 'state.sqlite';

const SUBCOMMANDS = [
  'import',
  'check',
  'export',
  'list',
  'enable',
  'disable',
  'delete',
  'test',
  'replay',
  'runs',
  'run',
];

export const command: Command = {
  name: 'rules',
  summary: 'Analytics rules and custom detections: import, export, test, replay, run',
  usage: `Usage: vigil rules <subcommand> [options]

  import --data DIR [--disabled] [--strict] [--json] PATH...
      Imports Sentinel analytics-rule YAML (kind Scheduled or NRT) and Defender custom detections (kind
      CustomDetection) from files or folders, unchanged. Reports per rule: created, updated, unchanged, or
      rejected with the reasons (file:line:column), e.g. a missing table or an unsupported construct.
  check [--strict] [--data DIR] PATH...
      Validates rule files against the workspace schema without importing them.
  export --data DIR [--out DIR] [--regenerate] [ID...]
      Writes the rules' YAML (as imported; --regenerate builds it from the stored definition) to stdout, or one
      file per rule into --out.
  list --data DIR [--json]
  enable --data DIR ID...        disable --data DIR ID...        delete --data DIR ID...
  test [--schema FILE] PATH...
      Runs the inline tests of rule files (tests: [{name, rows: {Table: [...]}, expect: {alerts, contains}}])
      against a scratch workspace (with the content pack's _GetWatchlist). Exit 1 when a test fails.
  replay --data DIR --from TIME --to TIME (ID | FILE)
      Evaluates a stored rule, or an edited rule file, over the windows the scheduler would have run between
      two times (ISO 8601, by ingestion time) and reports the alerts it would have raised. Writes nothing.
  runs --data DIR [--rule ID] [--since TIME] [--json]
      The coverage ledger: every evaluated, suppressed, skipped or failed window.
  run --data DIR
      One scheduler pass now (catches up every closed window of every enabled rule), then exits.

Options:
  --data DIR      workspace folder (its state store is DIR/${STATE_FILE})
  --schema FILE   table schema (default: content/schema/tables.json)
  --strict        a Sentinel rule whose query does not return TimeGenerated is rejected (default: a warning)

Exit status: 0 done, 3 some rules rejected, 1 failure (or a failing rule test), 2 usage error.`,
  options: {
    data: { type: 'string' },
    schema: { type: 'string' },
    json: { type: 'boolean' },
    disabled: { type: 'boolean' },
    strict: { type: 'boolean' },
    out: { type: 'string' },
    regenerate: { type: 'boolean' },
    from: { type: 'string' },
    to: { type: 'string' },
    rule: { type: 'string' },
    since: { type: 'string' },
  },

  async run(args, io) {
    const [sub, ...rest] = args.positionals;
    if (!sub || !SUBCOMMANDS.includes(sub)) {
      throw new UsageError(sub ? `unknown subcommand '${sub}'` : `a subcommand is needed: ${SUBCOMMANDS.join(', ')}`);
    }
    const schemaPath = stringOption(args, 'schema');
    const definitions = await readDefinitions(schemaPath ? resolve(io.cwd, schemaPath) : DEFAULT_SCHEMA);
    const strict = args.values.strict === true;
    if (sub === 'test') return runTests(rest, io, definitions, strict);
    if (sub === 'check' && stringOption(args, 'data') === undefined)
      return checkWithoutWorkspace(rest, io, definitions, strict);
    // Argument mistakes are found before the workspace is opened (a usage error creates no files).
    if (['import', 'check', 'enable', 'disable', 'delete', 'replay'].includes(sub) && rest.length === 0) {
      throw new UsageError(`${sub} needs ${sub === 'import' || sub === 'check' ? 'a PATH' : 'a rule ID'}`);
    }
    if (sub === 'replay') {
      const from = parseTime(stringOption(args, 'from'), 'from');
      if (parseTime(stringOption(args, 'to'), 'to') <= from) throw new UsageError('--to must be after --from');
    }
    if (sub === 'runs' && stringOption(args, 'since') !== undefined) parseTime(stringOption(args, 'since'), 'since');
    requiredOption(args, 'data');
    return withService(args, io, definitions, strict, async (svc) => {
      switch (sub) {
        case 'import':
        case 'check':
          return importRules(svc, rest, args, io, sub === 'check');
        case 'export':
          return exportRules(svc, rest, args, io);
        case 'list':
          return listRules(svc, args, io);
        case 'enable':
        case 'disable':
        case 'delete':
          return changeRules(svc, sub, rest, io);
        case 'replay':
          return replay(svc, rest, args, io);
        case 'runs':
          return listRuns(svc, args, io);
        default: {
          await svc.tick();
          await svc.settle();
          const runs = await svc.runs({ sinceMs: Date.now() - 60_000 });
          io.stderr.write(`scheduler pass done: ${runs.length} windows recorded in the last minute\n`);
          return EXIT.ok;
        }
      }
    });
  },
};

type Service = import('../../detect/service.js').DetectionService;

async function withService(
  args: ParsedArgs,
  io: CliIO,
  definitions: readonly TableDefinition[],
  strict: boolean,
  f: (svc: Service) => Promise<number>,
): Promise<number> {
  const data = resolve(io.cwd, requiredOption(args, 'data'));
  const [{ openWorkspace }, { SqliteDriver }, { DetectionService }, { IngestionTracker }] = await Promise.all([
    import('../../engine/workspace.js'),
    import('../../state/sql-driver.js'),
    import('../../detect/service.js'),
    import('../../detect/ingestion-tracker.js'),
  ]);
  const engine = await openWorkspace(data, { connections: 2 });
  await mkdir(data, { recursive: true });
  const state = new SqliteDriver(join(data, STATE_FILE));
  try {
    const svc = await DetectionService.open({
      engine,
      definitions,
      state,
      tracker: new IngestionTracker(),
      scratchDir: join(data, 'spool', 'detect'),
      missingTimeGenerated: strict ? 'error' : 'warning',
      log: (m) => io.stderr.write(`${m}\n`),
    });
    try {
      return await f(svc);
    } finally {
      await svc.stop();
    }
  } finally {
    await engine.close();
    await state.close();
  }
}

function location(path: string | null, io: CliIO, d: { line: number; column: number }): string {
  return `${path ? relative(io.cwd, path) || path : '<text>'}:${d.line}:${d.column}`;
}

async function importRules(
  svc: Service,
  paths: readonly string[],
  args: ParsedArgs,
  io: CliIO,
  dryRun: boolean,
): Promise<number> {
  if (paths.length === 0) throw new UsageError('no PATH to import');
  const { ruleFiles } = await import('../../detect/service.js');
  let rejected = 0;
  let total = 0;
  for (const p of paths) {
    const abs = resolve(io.cwd, p);
    if (!existsSync(abs)) throw new UsageError(`no such file or folder: ${p}`);
    for (const file of await ruleFiles(abs)) {
      const text = await readFile(file, 'utf8');
      const results = dryRun
        ? svc.check(text, file).map(({ parsed, analysis }) => ({
            path: file,
            ruleId: parsed.rule?.id ?? null,
            name: parsed.rule?.name ?? null,
            status: parsed.rule && analysis ? ('valid' as const) : ('rejected' as const),
            mode: analysis?.mode ?? null,
            diagnostics: parsed.diagnostics,
          }))
        : await svc.importText(text, file, args.values.disabled ? { enabled: false } : {});
      for (const r of results) {
        total++;
        if (r.status === 'rejected') rejected++;
        if (args.values.json) {
          io.stdout.write(`${JSON.stringify(r)}\n`);
          continue;
        }
        const what = r.name ? `${r.name} (${r.ruleId})` : relative(io.cwd, file);
        const mode = r.mode ? `, ${describeMode(r.mode)}` : '';
        io.stderr.write(`${r.status.padEnd(9)} ${what}${mode}\n`);
        for (const d of r.diagnostics) {
          io.stderr.write(`  ${location(r.path, io, d)}: ${d.severity} ${d.code}: ${d.message}\n`);
        }
      }
    }
  }
  io.stderr.write(`${total - rejected} of ${total} rules ${dryRun ? 'valid' : 'imported'}, ${rejected} rejected\n`);
  return rejected === 0 ? EXIT.ok : rejected === total ? EXIT.failure : EXIT.partial;
}

function describeMode(mode: string): string {
  return mode === 'nrt'
    ? 'runs on each ingestion batch'
    : mode === 'nrt-fallback'
      ? 'NRT on a 1-minute schedule'
      : 'scheduled';
}

async function checkWithoutWorkspace(
  paths: readonly string[],
  io: CliIO,
  definitions: readonly TableDefinition[],
  strict: boolean,
): Promise<number> {
  if (paths.length === 0) throw new UsageError('no PATH to check');
  const [{ parseRuleFile }, { validateRule }, { ruleFiles }, { SENTINEL_HEALTH }] = await Promise.all([
    import('../../detect/rule-file.js'),
    import('../../detect/validate.js'),
    import('../../detect/service.js'),
    import('../../detect/health.js'),
  ]);
  const schema = { database: 'Vigil', tables: [...definitions, SENTINEL_HEALTH], functions: await contentFunctions() };
  let bad = 0;
  let total = 0;
  for (const p of paths) {
    for (const file of await ruleFiles(resolve(io.cwd, p))) {
      for (const parsed of parseRuleFile(await readFile(file, 'utf8'), file)) {
        total++;
        const ok = validateRule(parsed, schema, { missingTimeGenerated: strict ? 'error' : 'warning' }) !== null;
        if (!ok) bad++;
        io.stderr.write(`${ok ? 'valid    ' : 'rejected '} ${parsed.rule?.name ?? relative(io.cwd, file)}\n`);
        for (const d of parsed.diagnostics)
          io.stderr.write(`  ${location(file, io, d)}: ${d.severity} ${d.code}: ${d.message}\n`);
      }
    }
  }
  io.stderr.write(`${total - bad} of ${total} rules valid\n`);
  return bad === 0 ? EXIT.ok : bad === total ? EXIT.failure : EXIT.partial;
}

async function exportRules(svc: Service, ids: readonly string[], args: ParsedArgs, io: CliIO): Promise<number> {
  const rules = await svc.listRules();
  const chosen = ids.length ? ids : rules.map((r) => r.id);
  const out = stringOption(args, 'out');
  if (out) await mkdir(resolve(io.cwd, out), { recursive: true });
  let docs = 0;
  for (const id of chosen) {
    const yaml = await svc.exportRule(id, { regenerate: args.values.regenerate === true });
    if (yaml === null) {
      io.stderr.write(`no rule ${id}\n`);
      return EXIT.failure;
    }
    if (out) await writeFile(join(resolve(io.cwd, out), `${id}.yaml`), yaml);
    else io.stdout.write(`${docs++ > 0 ? '---\n' : ''}${yaml.endsWith('\n') ? yaml : `${yaml}\n`}`);
  }
  if (out) io.stderr.write(`wrote ${chosen.length} rules to ${out}\n`);
  return EXIT.ok;
}

async function listRules(svc: Service, args: ParsedArgs, io: CliIO): Promise<number> {
  const { formatDuration } = await import('../../detect/duration.js');
  for (const r of await svc.listRules()) {
    if (args.values.json) {
      const { sourceYaml: _y, ...rest } = r;
      io.stdout.write(`${JSON.stringify(rest)}\n`);
      continue;
    }
    const schedule =
      r.mode === 'nrt' ? 'per batch' : `every ${formatDuration(r.frequencyMs)}, lookback ${formatDuration(r.periodMs)}`;
    const head = r.coveredUntilMs !== null ? new Date(r.coveredUntilMs).toISOString() : '-';
    io.stdout.write(
      `${r.enabled ? 'enabled ' : 'disabled'}  ${r.id}  ${r.definition.kind.padEnd(15)} ${schedule.padEnd(30)} covered until ${head}  ${r.definition.name}\n`,
    );
  }
  return EXIT.ok;
}

async function changeRules(svc: Service, sub: string, ids: readonly string[], io: CliIO): Promise<number> {
  if (ids.length === 0) throw new UsageError('no rule ID');
  let exit: number = EXIT.ok;
  for (const id of ids) {
    const ok = sub === 'delete' ? await svc.deleteRule(id) : await svc.setEnabled(id, sub === 'enable');
    io.stderr.write(ok ? `${sub}d ${id}\n` : `no rule ${id}\n`);
    if (!ok) exit = EXIT.failure;
  }
  return exit;
}

function parseTime(text: string | undefined, name: string): number {
  if (!text) throw new UsageError(`missing --${name}`);
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new UsageError(`--${name} '${text}' is not a date (ISO 8601)`);
  return ms;
}

async function replay(svc: Service, rest: readonly string[], args: ParsedArgs, io: CliIO): Promise<number> {
  const target = rest[0];
  if (!target) throw new UsageError('replay needs a rule ID or a rule FILE');
  const from = parseTime(stringOption(args, 'from'), 'from');
  const to = parseTime(stringOption(args, 'to'), 'to');
  if (to <= from) throw new UsageError('--to must be after --from');
  const file = resolve(io.cwd, target);
  let rule: import('../../detect/model.js').RuleDefinition;
  let mode: import('../../detect/model.js').ScheduleMode | undefined;
  if (existsSync(file)) {
    const [checked] = svc.check(await readFile(file, 'utf8'), file);
    if (!checked?.parsed.rule || !checked.analysis) {
      for (const d of checked?.parsed.diagnostics ?? [])
        io.stderr.write(`${location(file, io, d)}: ${d.severity} ${d.code}: ${d.message}\n`);
      return EXIT.failure;
    }
    rule = checked.parsed.rule;
    mode = checked.analysis.mode;
  } else {
    const stored = await svc.getRule(target);
    if (!stored) throw new UsageError(`no rule ${target} and no such file`);
    rule = stored.definition;
    mode = stored.mode;
  }
  const { windows, alerts } = await svc.replay(rule, from, to, mode);
  const failed = windows.filter((w) => w.run.status === 'failure');
  for (const w of windows) {
    if (args.values.json) continue;
    const r = w.run;
    io.stderr.write(
      `[${new Date(r.windowStartMs).toISOString()}, ${new Date(r.windowEndMs).toISOString()}) ${r.status} ${r.rows} results, ${r.alerts} alerts${r.error ? `: ${r.error}` : ''}\n`,
    );
  }
  for (const a of alerts) {
    if (args.values.json) io.stdout.write(`${JSON.stringify(a)}\n`);
    else
      io.stdout.write(
        `${a.timeGenerated}  ${a.severity.padEnd(13)} ${a.alertName}  (${a.resultCount} results, ${a.entities.length} entities)\n`,
      );
  }
  io.stderr.write(
    `${windows.length} windows, ${alerts.length} alerts would have been raised${failed.length ? `, ${failed.length} windows failed` : ''}\n`,
  );
  return failed.length ? EXIT.failure : EXIT.ok;
}

async function listRuns(svc: Service, args: ParsedArgs, io: CliIO): Promise<number> {
  const since = stringOption(args, 'since');
  const rule = stringOption(args, 'rule');
  const runs = await svc.runs({
    ...(rule ? { ruleId: rule } : {}),
    ...(since ? { sinceMs: parseTime(since, 'since') } : {}),
  });
  for (const r of runs) {
    if (args.values.json) io.stdout.write(`${JSON.stringify(r)}\n`);
    else {
      io.stdout.write(
        `${r.ruleId}  [${new Date(r.windowStartMs).toISOString()}, ${new Date(r.windowEndMs).toISOString()})  ${r.status.padEnd(10)} ${r.trigger.padEnd(8)} ${r.rows} rows ${r.alerts} alerts${r.error ? `  ${r.error}` : ''}\n`,
      );
    }
  }
  return EXIT.ok;
}

async function runTests(
  paths: readonly string[],
  io: CliIO,
  definitions: readonly TableDefinition[],
  strict: boolean,
): Promise<number> {
  if (paths.length === 0) throw new UsageError('no PATH to test');
  const [{ runRuleTests }, { ruleFiles }] = await Promise.all([
    import('../../detect/rule-tests.js'),
    import('../../detect/service.js'),
  ]);
  const files: { text: string; path: string }[] = [];
  for (const p of paths) {
    const abs = resolve(io.cwd, p);
    if (!existsSync(abs)) throw new UsageError(`no such file or folder: ${p}`);
    for (const f of await ruleFiles(abs)) files.push({ text: await readFile(f, 'utf8'), path: f });
  }
  const report = await runRuleTests(files, definitions, {
    missingTimeGenerated: strict ? 'error' : 'warning',
    functions: await contentFunctions(),
  });
  for (const parsed of report.invalid) {
    io.stderr.write(`invalid  ${parsed.rule?.name ?? parsed.path ?? ''}\n`);
    for (const d of parsed.diagnostics) {
      if (d.severity === 'error') io.stderr.write(`  ${location(parsed.path, io, d)}: ${d.code}: ${d.message}\n`);
    }
  }
  for (const r of report.results) {
    io.stdout.write(`${r.passed ? 'pass' : 'FAIL'}  ${r.ruleName} › ${r.test}  (${r.alerts.length} alerts)\n`);
    for (const f of r.failures) io.stdout.write(`      ${f}\n`);
  }
  for (const u of report.untested) io.stderr.write(`no tests  ${u.name}\n`);
  const failed = report.results.filter((r) => !r.passed).length;
  io.stderr.write(
    `${report.results.length - failed} of ${report.results.length} rule tests passed` +
      `${report.invalid.length ? `, ${report.invalid.length} rules invalid` : ''}\n`,
  );
  return failed > 0 || report.invalid.length > 0 ? EXIT.failure : EXIT.ok;
}

async function readDefinitions(path: string | URL): Promise<TableDefinition[]> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`cannot read the schema ${String(path)}: ${(e as Error).message}`);
  }
  const { tableDefinitionsFromTablesJson } = await import('../../engine/storage-names.js');
  return tableDefinitionsFromTablesJson(json);
}
