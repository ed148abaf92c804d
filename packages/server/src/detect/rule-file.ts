/**
 * Rule files: Sentinel analytics-rule YAML (`kind: Scheduled | NRT`, the format of the Azure-Sentinel repository)
 * and Defender custom detections (`kind: CustomDetection`, the fields of Graph's `detectionRule`), parsed into a
 * `RuleDefinition` with diagnostics that point into the file (offsets, lines and columns). This module checks the
 * file alone; `validate.ts` checks the query against the workspace.
 */
import { type Document, isMap, isScalar, LineCounter, type Node, parseAllDocuments, type Range } from 'yaml';
import { describeDuration, parseDuration } from './duration.js';
import { entityIdentifier, entityType } from './entities.js';
import {
  type AggregationKind,
  type AlertDetailsOverride,
  CUSTOM_DETECTION_SCHEDULES,
  type CustomDetectionSettings,
  type EntityMapping,
  MAX_PERIOD_MS,
  MIN_FREQUENCY_MS,
  type ResponseActionSpec,
  type ResponseActionType,
  type RuleDefinition,
  type RuleKind,
  type RuleTest,
  SEVERITIES,
  type Severity,
  type TriggerOperator,
} from './model.js';

export interface RuleDiagnostic {
  readonly severity: 'error' | 'warning';
  readonly code: string;
  readonly message: string;
  /** UTF-16 offsets in the file. */
  readonly start: number;
  readonly end: number;
  /** 1-based position of `start`. */
  readonly line: number;
  readonly column: number;
}

export interface ParsedRule {
  readonly path: string | null;
  /** The YAML text of this rule (one document of the file). */
  readonly text: string;
  /** The document's offset in the file (diagnostic offsets are file offsets). */
  readonly offset: number;
  readonly rule: RuleDefinition | null;
  readonly diagnostics: RuleDiagnostic[];
  /** Maps an offset in the rule's query text to a file offset (for query diagnostics). */
  readonly queryOffset: (offset: number) => number;
  /** Adds a diagnostic located at file offsets (used by the validator). */
  readonly report: (severity: 'error' | 'warning', code: string, message: string, start: number, end: number) => void;
  /** File offsets of a field's value (`['entityMappings', 0, 'fieldMappings', 1, 'columnName']`), if present. */
  readonly fieldRange: (path: readonly (string | number)[]) => readonly [number, number] | null;
}

export const TACTICS: readonly string[] = [
  'Reconnaissance',
  'ResourceDevelopment',
  'InitialAccess',
  'Execution',
  'Persistence',
  'PrivilegeEscalation',
  'DefenseEvasion',
  'CredentialAccess',
  'Discovery',
  'LateralMovement',
  'Collection',
  'CommandAndControl',
  'Exfiltration',
  'Impact',
  'ImpairProcessControl',
  'InhibitResponseFunction',
  'PreAttack',
];

/** Sentinel's alert grouping: the lookback it allows, its matching methods and the alert details it groups by. */
const GROUPING_LOOKBACK = { min: 5 * 60_000, max: 7 * 86_400_000 };
const MATCHING_METHODS: readonly string[] = ['AllEntities', 'AnyAlert', 'Selected'];
const ALERT_DETAILS: readonly string[] = ['DisplayName', 'Severity'];

const OPERATORS: Readonly<Record<string, TriggerOperator>> = {
  gt: 'gt',
  greaterthan: 'gt',
  lt: 'lt',
  lessthan: 'lt',
  eq: 'eq',
  equal: 'eq',
  ne: 'ne',
  notequal: 'ne',
};

const RESPONSE_ACTIONS: Readonly<Record<string, ResponseActionType>> = {
  isolatedeviceresponseaction: 'isolateDevice',
  collectinvestigationpackageresponseaction: 'collectInvestigationPackage',
  runantivirusscanresponseaction: 'runAntivirusScan',
  initiateinvestigationresponseaction: 'initiateInvestigation',
  restrictappexecutionresponseaction: 'restrictAppExecution',
  stopandquarantinefileresponseaction: 'stopAndQuarantineFile',
  disableuserresponseaction: 'disableUser',
  forceuserpasswordresetresponseaction: 'forceUserPasswordReset',
  markuserascompromisedresponseaction: 'markUserAsCompromised',
};

export interface ParseOptions {
  /**
   * The shortest queryFrequency / queryPeriod accepted (default 5 minutes, Sentinel's minimum). Lower values are
   * for tests and demos that need many windows quickly.
   */
  readonly minFrequencyMs?: number;
}

/** Parses every YAML document of a rule file (usually one). */
export function parseRuleFile(text: string, path: string | null = null, options: ParseOptions = {}): ParsedRule[] {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [];
  if (list.length === 0) {
    const p = new RuleParser(text, path, lines, null, 0, text.length, options);
    p.error('empty', 'The file holds no rule.', 0, text.length);
    return [p.result(null)];
  }
  return list.map((doc) => {
    const [start, , end] = doc.range;
    const parser = new RuleParser(text, path, lines, doc, start, end, options);
    return parser.result(parser.parse());
  });
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

class RuleParser {
  readonly diagnostics: RuleDiagnostic[] = [];
  private queryNode: Node | null = null;

  constructor(
    private readonly text: string,
    private readonly path: string | null,
    private readonly lines: LineCounter,
    private readonly doc: Document | null,
    private readonly start: number,
    private readonly end: number,
    private readonly options: ParseOptions,
  ) {}

  result(rule: RuleDefinition | null): ParsedRule {
    return {
      path: this.path,
      text: this.text.slice(this.start, this.end),
      offset: this.start,
      rule: this.diagnostics.some((d) => d.severity === 'error') ? null : rule,
      diagnostics: this.diagnostics,
      queryOffset: (o) => this.queryOffset(o),
      report: (severity, code, message, start, end) => this.add(severity, code, message, start, end),
      fieldRange: (path) => {
        const n = this.node(path);
        return n?.range ? [n.range[0], n.range[1]] : null;
      },
    };
  }

  add(severity: 'error' | 'warning', code: string, message: string, start: number, end: number): void {
    const pos = this.lines.linePos(start);
    this.diagnostics.push({
      severity,
      code,
      message,
      start,
      end: Math.max(end, start),
      line: pos.line,
      column: pos.col,
    });
  }

  error(code: string, message: string, start: number, end: number): void {
    this.add('error', code, message, start, end);
  }

  private node(path: readonly (string | number)[]): Node | null {
    if (!this.doc) return null;
    const n = this.doc.getIn(path, true);
    return n && typeof n === 'object' && 'range' in (n as object) ? (n as Node) : null;
  }

  /** The range of a field's value, or of its key when the value is empty, or of the document. */
  private at(path: readonly (string | number)[]): Range | readonly [number, number] {
    const n = this.node(path);
    if (n?.range) return n.range;
    const parent = path.length > 1 ? this.node(path.slice(0, -1)) : this.doc?.contents;
    if (parent && isMap(parent)) {
      const last = path[path.length - 1];
      const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === last);
      if (pair && isScalar(pair.key) && pair.key.range) return pair.key.range;
      if (parent.range) return parent.range;
    }
    return [this.start, this.start];
  }

  private fail(path: readonly (string | number)[], code: string, message: string): void {
    const r = this.at(path);
    this.error(code, message, r[0], r[1]);
  }

  private warn(path: readonly (string | number)[], code: string, message: string): void {
    const r = this.at(path);
    this.add('warning', code, message, r[0], r[1]);
  }

  parse(): RuleDefinition | null {
    const doc = this.doc;
    if (!doc) return null;
    for (const e of doc.errors) {
      this.error('yaml-syntax', `YAML: ${e.message.split('\n')[0]}`, e.pos[0], e.pos[1]);
    }
    if (doc.errors.length) return null;
    if (!isMap(doc.contents)) {
      this.error('not-a-rule', 'A rule file is a YAML mapping (key: value lines).', this.start, this.end);
      return null;
    }
    const json = doc.toJS({ maxAliasCount: 100 }) as Record<string, Json>;
    const kindText = typeof json.kind === 'string' ? json.kind : 'Scheduled';
    const kind = (['Scheduled', 'NRT', 'CustomDetection'] as const).find(
      (k) => k.toLowerCase() === kindText.toLowerCase(),
    );
    if (!kind) {
      this.fail(
        ['kind'],
        'invalid-value',
        `Unknown rule kind '${kindText}': expected Scheduled, NRT or CustomDetection.`,
      );
      return null;
    }
    return kind === 'CustomDetection' ? this.customDetection(json) : this.sentinel(json, kind);
  }

  // ─────────────────────────────── Sentinel analytics rules ───────────────────────────────

  private sentinel(json: Record<string, Json>, kind: RuleKind): RuleDefinition | null {
    const id = this.requiredString(json, 'id');
    const name = this.requiredString(json, 'name');
    const query = this.requiredString(json, 'query');
    this.queryNode = this.node(['query']);
    const severity = this.severity(json.severity, ['severity']);
    let frequency = 0;
    let period = 0;
    if (kind === 'Scheduled') {
      const min = this.options.minFrequencyMs ?? MIN_FREQUENCY_MS;
      frequency = this.duration(json, 'queryFrequency', min, MAX_PERIOD_MS) ?? 0;
      period = this.duration(json, 'queryPeriod', min, MAX_PERIOD_MS) ?? 0;
      if (frequency && period && period < frequency) {
        this.warn(
          ['queryPeriod'],
          'period-shorter-than-frequency',
          'queryPeriod is shorter than queryFrequency: Sentinel would never read the rows in between; Vigil reads ' +
            'the whole interval since the previous run.',
        );
      }
    }
    const operator = this.operator(json);
    const threshold = this.threshold(json);
    const tactics = this.stringList(json, 'tactics');
    for (const [i, t] of tactics.entries()) {
      if (!TACTICS.includes(t))
        this.warn(['tactics', i], 'unknown-tactic', `'${t}' is not a MITRE ATT&CK tactic name.`);
    }
    const techniques = this.stringList(json, 'relevantTechniques');
    for (const [i, t] of techniques.entries()) {
      if (!/^T\d{4}(\.\d{3})?$/.test(t)) {
        this.warn(
          ['relevantTechniques', i],
          'invalid-technique',
          `'${t}' is not a MITRE technique id (T1234 or T1234.001).`,
        );
      }
    }
    const entityMappings = this.entityMappings(json.entityMappings);
    const customDetails = this.customDetails(json.customDetails);
    const override = this.alertDetailsOverride(json.alertDetailsOverride);
    const aggregationKind = this.aggregation(json.eventGroupingSettings);
    const incident = this.incidentConfiguration(json.incidentConfiguration, entityMappings, customDetails);
    const suppressionEnabled = this.bool(json, 'suppressionEnabled', false);
    const suppression =
      json.suppressionDuration === undefined
        ? 5 * 3600_000
        : this.duration(json, 'suppressionDuration', 0, MAX_PERIOD_MS);
    const sentinelEntities = Array.isArray(json.sentinelEntitiesMappings)
      ? json.sentinelEntitiesMappings
          .map((m) => (m && typeof m === 'object' && !Array.isArray(m) ? m.columnName : null))
          .filter((c): c is string => typeof c === 'string')
      : [];
    const tests = this.tests(json.tests);
    if (
      id === null ||
      name === null ||
      query === null ||
      severity === null ||
      operator === null ||
      threshold === null
    ) {
      return null;
    }
    return {
      id,
      name,
      description: typeof json.description === 'string' ? json.description.trim() : '',
      kind,
      severity,
      query,
      queryFrequencyMs: frequency,
      queryPeriodMs: period,
      triggerOperator: operator,
      triggerThreshold: threshold,
      tactics,
      techniques,
      entityMappings,
      sentinelEntitiesColumns: sentinelEntities,
      customDetails,
      alertDetailsOverride: override,
      aggregationKind,
      createIncident: incident.create,
      incidentConfiguration: incident.config,
      suppressionEnabled,
      suppressionDurationMs: suppression ?? 5 * 3600_000,
      enabled: this.bool(json, 'enabled', true),
      version: typeof json.version === 'string' || typeof json.version === 'number' ? String(json.version) : '',
      customDetection: null,
      tests,
    };
  }

  private requiredString(json: Record<string, Json>, key: string): string | null {
    const v = json[key];
    if (typeof v === 'number') return String(v);
    if (typeof v !== 'string' || v.trim() === '') {
      this.fail([key], 'missing-field', `The rule has no ${key}.`);
      return null;
    }
    return v;
  }

  private severity(v: Json | undefined, path: (string | number)[]): Severity | null {
    const s = typeof v === 'string' ? SEVERITIES.find((x) => x.toLowerCase() === v.toLowerCase()) : undefined;
    if (!s) {
      this.fail(
        path,
        v === undefined ? 'missing-field' : 'invalid-value',
        `severity must be one of ${SEVERITIES.join(', ')}.`,
      );
      return null;
    }
    return s;
  }

  private duration(json: Record<string, Json>, key: string, min: number, max: number): number | null {
    const v = json[key];
    if (v === undefined || v === null) {
      this.fail([key], 'missing-field', `The rule has no ${key}.`);
      return null;
    }
    const ms = parseDuration(String(v));
    if (ms === null) {
      this.fail([key], 'invalid-value', `${key} '${String(v)}' is not a duration (e.g. 5m, 1h, 1d, PT1H).`);
      return null;
    }
    if (ms < min || ms > max) {
      this.fail(
        [key],
        'invalid-value',
        `${key} must be between ${describeDuration(min)} and ${describeDuration(max)}.`,
      );
      return null;
    }
    return ms;
  }

  private operator(json: Record<string, Json>): TriggerOperator | null {
    if (json.triggerOperator === undefined) return 'gt';
    const op = OPERATORS[String(json.triggerOperator).toLowerCase()];
    if (!op) this.fail(['triggerOperator'], 'invalid-value', 'triggerOperator must be gt, lt, eq or ne.');
    return op ?? null;
  }

  private threshold(json: Record<string, Json>): number | null {
    if (json.triggerThreshold === undefined) return 0;
    const n = Number(json.triggerThreshold);
    if (!Number.isInteger(n) || n < 0 || n > 10_000) {
      this.fail(['triggerThreshold'], 'invalid-value', 'triggerThreshold must be a whole number from 0 to 10000.');
      return null;
    }
    return n;
  }

  private bool(json: Record<string, Json>, key: string, fallback: boolean): boolean {
    const v = json[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v === 'boolean') return v;
    if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
    this.fail([key], 'invalid-value', `${key} must be true or false.`);
    return fallback;
  }

  private stringList(json: Record<string, Json>, key: string): string[] {
    const v = json[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.fail([key], 'invalid-value', `${key} must be a list.`);
      return [];
    }
    return v.filter((x): x is string => typeof x === 'string');
  }

  private entityMappings(v: Json | undefined): EntityMapping[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.fail(['entityMappings'], 'invalid-value', 'entityMappings must be a list.');
      return [];
    }
    if (v.length > 10) this.warn(['entityMappings'], 'limit', 'Sentinel allows at most 10 entity mappings per rule.');
    const out: EntityMapping[] = [];
    for (const [i, m] of v.entries()) {
      if (!m || typeof m !== 'object' || Array.isArray(m)) {
        this.fail(['entityMappings', i], 'invalid-value', 'An entity mapping has entityType and fieldMappings.');
        continue;
      }
      const typeName = typeof m.entityType === 'string' ? m.entityType : '';
      const type = entityType(typeName);
      if (!type) {
        this.fail(
          ['entityMappings', i, 'entityType'],
          'unknown-entity-type',
          `Unknown entity type '${typeName}'. Known: Account, Host, IP, URL, AzureResource, CloudApplication, DNS, ` +
            'File, FileHash, Malware, Process, RegistryKey, RegistryValue, SecurityGroup, Mailbox, MailCluster, ' +
            'MailMessage, SubmissionMail.',
        );
        continue;
      }
      const fields = Array.isArray(m.fieldMappings) ? m.fieldMappings : [];
      if (fields.length === 0) {
        this.fail(['entityMappings', i], 'invalid-value', `The ${type.name} mapping has no fieldMappings.`);
      }
      if (fields.length > 3) {
        this.warn(
          ['entityMappings', i, 'fieldMappings'],
          'limit',
          'Sentinel allows at most 3 identifiers per mapping.',
        );
      }
      const fieldMappings = [];
      for (const [j, f] of fields.entries()) {
        const identifier = f && typeof f === 'object' && !Array.isArray(f) ? f.identifier : undefined;
        const column = f && typeof f === 'object' && !Array.isArray(f) ? f.columnName : undefined;
        const known = typeof identifier === 'string' ? entityIdentifier(type, identifier) : undefined;
        if (!known) {
          this.fail(
            ['entityMappings', i, 'fieldMappings', j, 'identifier'],
            'unknown-identifier',
            `'${String(identifier)}' is not an identifier of ${type.name} (${type.identifiers.join(', ')}).`,
          );
          continue;
        }
        if (typeof column !== 'string' || column === '') {
          this.fail(['entityMappings', i, 'fieldMappings', j], 'missing-field', 'A field mapping needs a columnName.');
          continue;
        }
        fieldMappings.push({ identifier: known, columnName: column });
      }
      out.push({ entityType: type.name, fieldMappings });
    }
    return out;
  }

  private customDetails(v: Json | undefined): Record<string, string> {
    if (v === undefined || v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v)) {
      this.fail(['customDetails'], 'invalid-value', 'customDetails maps detail names to result columns.');
      return {};
    }
    const keys = Object.keys(v);
    if (keys.length > 20) this.warn(['customDetails'], 'limit', 'Sentinel allows at most 20 custom details.');
    const out: Record<string, string> = {};
    for (const k of keys) {
      const c = v[k];
      if (typeof c !== 'string' || c === '')
        this.fail(['customDetails', k], 'invalid-value', `Custom detail ${k} names no column.`);
      else out[k] = c;
    }
    return out;
  }

  private alertDetailsOverride(v: Json | undefined): AlertDetailsOverride | null {
    if (v === undefined || v === null) return null;
    if (typeof v !== 'object' || Array.isArray(v)) {
      this.fail(['alertDetailsOverride'], 'invalid-value', 'alertDetailsOverride is a mapping.');
      return null;
    }
    const str = (k: string) => (typeof v[k] === 'string' && v[k] !== '' ? (v[k] as string) : undefined);
    const dynamic = Array.isArray(v.alertDynamicProperties)
      ? v.alertDynamicProperties.flatMap((p) =>
          p &&
          typeof p === 'object' &&
          !Array.isArray(p) &&
          typeof p.alertProperty === 'string' &&
          typeof p.value === 'string'
            ? [{ alertProperty: p.alertProperty, value: p.value }]
            : [],
        )
      : [];
    const out: AlertDetailsOverride = {
      ...(str('alertDisplayNameFormat') ? { alertDisplayNameFormat: str('alertDisplayNameFormat') } : {}),
      ...(str('alertDescriptionFormat') ? { alertDescriptionFormat: str('alertDescriptionFormat') } : {}),
      ...(str('alertTacticsColumnName') ? { alertTacticsColumnName: str('alertTacticsColumnName') } : {}),
      ...(str('alertSeverityColumnName') ? { alertSeverityColumnName: str('alertSeverityColumnName') } : {}),
      ...(dynamic.length ? { alertDynamicProperties: dynamic } : {}),
    };
    return out;
  }

  private aggregation(v: Json | undefined): AggregationKind {
    if (!v || typeof v !== 'object' || Array.isArray(v)) return 'SingleAlert';
    const k = v.aggregationKind;
    if (k === undefined || k === 'SingleAlert') return 'SingleAlert';
    if (k === 'AlertPerResult') return 'AlertPerResult';
    this.fail(
      ['eventGroupingSettings', 'aggregationKind'],
      'invalid-value',
      'aggregationKind must be SingleAlert or AlertPerResult.',
    );
    return 'SingleAlert';
  }

  private incidentConfiguration(
    v: Json | undefined,
    mapped: readonly EntityMapping[],
    customDetails: Readonly<Record<string, string>>,
  ): { create: boolean; config: Record<string, unknown> | null } {
    if (!v || typeof v !== 'object' || Array.isArray(v)) return { create: true, config: null };
    const create = v.createIncident;
    this.groupingConfiguration(v.groupingConfiguration, mapped, customDetails);
    return { create: create === undefined ? true : create === true || create === 'true', config: v };
  }

  /**
   * Sentinel's alert grouping settings, checked where they are written (the incident engine applies them): a
   * lookback of 5 minutes to 7 days, a matching method, and grouping keys the rule can produce.
   */
  private groupingConfiguration(
    v: Json | undefined,
    mapped: readonly EntityMapping[],
    customDetails: Readonly<Record<string, string>>,
  ): void {
    if (v === undefined || v === null) return;
    const at = ['incidentConfiguration', 'groupingConfiguration'];
    if (typeof v !== 'object' || Array.isArray(v)) {
      this.fail(
        at,
        'invalid-value',
        'groupingConfiguration is a map (enabled, lookbackDuration, matchingMethod, ...).',
      );
      return;
    }
    for (const key of ['enabled', 'reopenClosedIncident']) {
      const b = v[key];
      if (b !== undefined && typeof b !== 'boolean' && b !== 'true' && b !== 'false')
        this.fail([...at, key], 'invalid-value', `${key} must be true or false.`);
    }
    if (v.lookbackDuration !== undefined) {
      const ms = parseDuration(String(v.lookbackDuration));
      if (ms === null || ms < GROUPING_LOOKBACK.min || ms > GROUPING_LOOKBACK.max)
        this.fail(
          [...at, 'lookbackDuration'],
          'invalid-value',
          `lookbackDuration must be a duration between ${describeDuration(GROUPING_LOOKBACK.min)} and ${describeDuration(GROUPING_LOOKBACK.max)}.`,
        );
    }
    const method = v.matchingMethod;
    if (method !== undefined && !MATCHING_METHODS.includes(String(method)))
      this.fail(
        [...at, 'matchingMethod'],
        'invalid-value',
        `matchingMethod must be one of ${MATCHING_METHODS.join(', ')}.`,
      );
    const list = (key: string): string[] => {
      const l = v[key];
      if (l === undefined || l === null) return [];
      if (!Array.isArray(l)) {
        this.fail([...at, key], 'invalid-value', `${key} is a list.`);
        return [];
      }
      return l.map(String);
    };
    const types = new Set(mapped.map((m) => m.entityType.toLowerCase()));
    const entities = list('groupByEntities');
    for (const [i, e] of entities.entries()) {
      if (!entityType(e)) this.fail([...at, 'groupByEntities', i], 'invalid-value', `'${e}' is not an entity type.`);
      else if (!types.has(e.toLowerCase()))
        this.warn(
          [...at, 'groupByEntities', i],
          'grouping-unmapped',
          `The rule maps no ${e} entity: grouping by it compares nothing.`,
        );
    }
    const details = list('groupByAlertDetails');
    for (const [i, d] of details.entries()) {
      if (!ALERT_DETAILS.includes(d))
        this.fail(
          [...at, 'groupByAlertDetails', i],
          'invalid-value',
          `groupByAlertDetails takes ${ALERT_DETAILS.join(', ')}.`,
        );
    }
    const custom = list('groupByCustomDetails');
    for (const [i, c] of custom.entries()) {
      if (!(c in customDetails))
        this.warn(
          [...at, 'groupByCustomDetails', i],
          'grouping-unmapped',
          `The rule has no custom detail '${c}': grouping by it compares nothing.`,
        );
    }
    if (method === 'Selected' && entities.length + details.length + custom.length === 0)
      this.warn(
        [...at, 'matchingMethod'],
        'grouping-empty',
        'matchingMethod Selected with nothing selected groups every alert of the rule together.',
      );
  }

  private tests(v: Json | undefined): RuleTest[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.fail(['tests'], 'invalid-value', 'tests is a list of {name, rows, expect}.');
      return [];
    }
    const out: RuleTest[] = [];
    for (const [i, t] of v.entries()) {
      if (!t || typeof t !== 'object' || Array.isArray(t)) {
        this.fail(['tests', i], 'invalid-value', 'A test has a name, rows per table and expect.');
        continue;
      }
      const rows: Record<string, Record<string, unknown>[]> = {};
      if (t.rows && typeof t.rows === 'object' && !Array.isArray(t.rows)) {
        for (const [table, list] of Object.entries(t.rows)) {
          if (!Array.isArray(list)) {
            this.fail(['tests', i, 'rows', table], 'invalid-value', `rows.${table} must be a list of rows.`);
            continue;
          }
          rows[table] = list.filter(
            (r): r is { [k: string]: Json } => !!r && typeof r === 'object' && !Array.isArray(r),
          );
        }
      } else {
        this.fail(['tests', i], 'missing-field', 'A test needs rows: {Table: [row, ...]}.');
      }
      const expect = t.expect && typeof t.expect === 'object' && !Array.isArray(t.expect) ? t.expect : null;
      if (!expect)
        this.fail(['tests', i], 'missing-field', 'A test needs expect: {alerts: N} and/or {contains: [...]}.');
      const alerts = expect && typeof expect.alerts === 'number' ? expect.alerts : undefined;
      const contains =
        expect && Array.isArray(expect.contains)
          ? expect.contains.filter((c): c is { [k: string]: Json } => !!c && typeof c === 'object' && !Array.isArray(c))
          : undefined;
      out.push({
        name: typeof t.name === 'string' ? t.name : `test ${i + 1}`,
        ...(typeof t.now === 'string' ? { now: t.now } : {}),
        rows,
        expect: { ...(alerts !== undefined ? { alerts } : {}), ...(contains ? { contains } : {}) },
      });
    }
    return out;
  }

  // ─────────────────────────────── Defender custom detections ───────────────────────────────

  private customDetection(json: Record<string, Json>): RuleDefinition | null {
    const id = this.requiredString(json, 'id');
    const name = this.requiredString(json, 'displayName');
    const qc = json.queryCondition;
    const query =
      qc && typeof qc === 'object' && !Array.isArray(qc) && typeof qc.queryText === 'string' ? qc.queryText : null;
    if (query === null)
      this.fail(['queryCondition'], 'missing-field', 'A custom detection needs queryCondition.queryText.');
    this.queryNode = this.node(['queryCondition', 'queryText']);
    const sched = json.schedule;
    const periodText = sched && typeof sched === 'object' && !Array.isArray(sched) ? String(sched.period ?? '') : '';
    const period = (['0', '1H', '3H', '12H', '24H'] as const).find((p) => p === periodText.toUpperCase());
    if (!period) {
      this.fail(['schedule', 'period'], 'invalid-value', 'schedule.period must be 0 (continuous), 1H, 3H, 12H or 24H.');
    }
    const action = json.detectionAction;
    const da = action && typeof action === 'object' && !Array.isArray(action) ? action : {};
    const tpl =
      da.alertTemplate && typeof da.alertTemplate === 'object' && !Array.isArray(da.alertTemplate)
        ? da.alertTemplate
        : null;
    if (!tpl)
      this.fail(['detectionAction'], 'missing-field', 'A custom detection needs detectionAction.alertTemplate.');
    const t = tpl ?? {};
    const severity = this.severity(t.severity ?? 'medium', ['detectionAction', 'alertTemplate', 'severity']);
    const assets = Array.isArray(t.impactedAssets) ? t.impactedAssets : [];
    const impactedAssets = assets.flatMap((a) =>
      a && typeof a === 'object' && !Array.isArray(a) && typeof a.identifier === 'string'
        ? [
            {
              type: String(a['@odata.type'] ?? '').replace(/^#microsoft\.graph\.security\./, ''),
              identifier: a.identifier,
            },
          ]
        : [],
    );
    if (impactedAssets.length === 0) {
      this.fail(
        ['detectionAction', 'alertTemplate', 'impactedAssets'],
        'missing-field',
        'A custom detection needs at least one impacted asset.',
      );
    }
    const responseActions: ResponseActionSpec[] = [];
    const actions = Array.isArray(da.responseActions) ? da.responseActions : [];
    for (const [i, a] of actions.entries()) {
      if (!a || typeof a !== 'object' || Array.isArray(a)) continue;
      const typeName = String(a['@odata.type'] ?? '')
        .replace(/^#?microsoft\.graph\.security\./, '')
        .toLowerCase();
      const type = RESPONSE_ACTIONS[typeName];
      if (!type) {
        this.fail(
          ['detectionAction', 'responseActions', i],
          'unknown-action',
          `Unknown response action '${String(a['@odata.type'])}'.`,
        );
        continue;
      }
      if (typeof a.identifier !== 'string' || a.identifier === '') {
        this.fail(
          ['detectionAction', 'responseActions', i],
          'missing-field',
          'A response action needs an identifier (a result column).',
        );
        continue;
      }
      const parameters: Record<string, string> = {};
      for (const [k, v] of Object.entries(a)) {
        if (k !== '@odata.type' && k !== 'identifier' && v !== null && typeof v !== 'object') parameters[k] = String(v);
      }
      responseActions.push({ type, identifier: a.identifier, parameters });
    }
    const techniques = Array.isArray(t.mitreTechniques)
      ? t.mitreTechniques.filter((x): x is string => typeof x === 'string')
      : [];
    const category = typeof t.category === 'string' ? t.category : '';
    const tests = this.tests(json.tests);
    if (id === null || name === null || query === null || !period || severity === null) return null;
    const schedule = CUSTOM_DETECTION_SCHEDULES[period];
    const settings: CustomDetectionSettings = {
      period,
      impactedAssets,
      category,
      recommendedActions: typeof t.recommendedActions === 'string' ? t.recommendedActions : null,
      responseActions,
    };
    return {
      id,
      name,
      description: typeof t.description === 'string' ? t.description : '',
      kind: 'CustomDetection',
      severity,
      query,
      queryFrequencyMs: schedule.frequencyMs,
      queryPeriodMs: schedule.lookbackMs,
      triggerOperator: 'gt',
      triggerThreshold: 0,
      tactics: category ? [category] : [],
      techniques,
      entityMappings: [],
      sentinelEntitiesColumns: [],
      customDetails: {},
      alertDetailsOverride: {
        ...(typeof t.title === 'string' ? { alertDisplayNameFormat: t.title } : {}),
        ...(typeof t.description === 'string' ? { alertDescriptionFormat: t.description } : {}),
      },
      aggregationKind: 'AlertPerResult',
      createIncident: true,
      incidentConfiguration: null,
      suppressionEnabled: false,
      suppressionDurationMs: 0,
      enabled: this.bool(json, 'isEnabled', true),
      version: '',
      customDetection: settings,
      tests,
    };
  }

  // ─────────────────────────────── query offsets ───────────────────────────────

  /** Maps an offset in the query's value to the file: exact for block literals (`|`) and plain one-liners. */
  private queryOffset(offset: number): number {
    const n = this.queryNode;
    if (!n?.range || !isScalar(n)) return this.start;
    const [start, valueEnd] = n.range;
    const type = n.type;
    if (type === 'BLOCK_LITERAL') {
      const src = this.text.slice(start, valueEnd);
      const header = src.indexOf('\n');
      if (header < 0) return start;
      const value = String(n.value);
      const before = value.slice(0, offset);
      const lineIndex = (before.match(/\n/g) ?? []).length;
      const col = offset - (before.lastIndexOf('\n') + 1);
      // Content lines follow the header; blank lines may be shorter than the indentation.
      const lineStarts: number[] = [];
      let p = start + header + 1;
      while (p < valueEnd) {
        lineStarts.push(p);
        const nl = this.text.indexOf('\n', p);
        if (nl < 0 || nl >= valueEnd) break;
        p = nl + 1;
      }
      const indent = Math.min(
        ...lineStarts
          .map((s) => {
            const line = this.text.slice(s, this.text.indexOf('\n', s) < 0 ? valueEnd : this.text.indexOf('\n', s));
            return line.trim() === '' ? Number.POSITIVE_INFINITY : line.length - line.trimStart().length;
          })
          .concat([Number.POSITIVE_INFINITY]),
      );
      const ls = lineStarts[lineIndex];
      if (ls === undefined || !Number.isFinite(indent)) return start;
      return ls + indent + col;
    }
    if (type === 'PLAIN') return start + offset;
    if (type === 'QUOTE_DOUBLE' || type === 'QUOTE_SINGLE') return start + 1 + offset;
    return start;
  }
}
