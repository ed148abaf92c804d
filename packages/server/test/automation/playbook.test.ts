// biome-ignore-all lint/suspicious/noTemplateCurlyInString: playbook expressions are written `${{ ... }}` inside plain strings.
/**
 * Playbook validation: the JSON schema (shipped as content/automation/playbook.schema.json for editors), meaning
 * checks with positions (duplicate ids, expressions, references to later steps, secrets outside the fields that
 * send them, KQL templates), and every shipped playbook.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PLAYBOOK_SCHEMA, parsePlaybook } from '../../src/automation/playbook.js';
import { validateSchema } from '../../src/automation/schema.js';

const CONTENT = new URL('../../../../content/automation/', import.meta.url);

const pb = (steps: string, head = 'trigger: { kind: incident }') => `id: p\nname: P\n${head}\nsteps:\n${steps}`;
const errors = (text: string) => parsePlaybook(text).diagnostics.filter((d) => d.severity === 'error');

describe('playbook schema', () => {
  it('is shipped as content/automation/playbook.schema.json (regenerate with UPDATE_SCHEMA=1)', () => {
    const file = new URL('playbook.schema.json', CONTENT);
    if (process.env.UPDATE_SCHEMA) writeFileSync(file, `${JSON.stringify(PLAYBOOK_SCHEMA, null, 2)}\n`);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(JSON.parse(JSON.stringify(PLAYBOOK_SCHEMA)));
  });

  it('accepts every step type', () => {
    const text =
      pb(`  - { id: a, type: http, url: "https://example.com/x", method: POST, body: { k: 1 }, headers: { x-a: b } }
  - { id: b, type: kql, query: "SigninLogs | where UserPrincipalName == upn | take 5", parameters: { upn: "\${{ trigger.incident.owner.userPrincipalName }}" } }
  - { id: c, type: lookupThreatIntel, indicator: 1.2.3.4 }
  - { id: d, type: lookupWatchlist, watchlist: vips, key: alice }
  - { id: e, type: lookupAssetOwner, asset: ws01, sources: [deviceInfo, watchlist], watchlist: owners }
  - { id: f, type: setVariable, variable: x, value: 1 }
  - { id: g, type: comment, message: hi }
  - { id: h, type: updateIncident, addTags: [x], severity: High }
  - { id: i, type: notifyTeams, webhook: "\${{ secrets.teams }}", title: t, facts: { a: b } }
  - { id: j, type: notifySlack, webhook: "\${{ secrets.slack }}", text: t }
  - { id: k, type: ticket, system: jira, url: "https://jira.example.com", project: SEC, title: t }
  - { id: l, type: approval, title: ok?, expiresIn: 2d }
  - { id: m, type: responseAction, action: isolateDevice, target: ws01 }
  - id: n
    type: forEach
    items: \${{ entities('ip') }}
    steps:
      - { id: o, type: comment, message: "\${{ item.Address }}", retry: { attempts: 2, backoff: 1s }, timeout: 10s }
`);
    const r = parsePlaybook(text);
    expect(r.diagnostics).toEqual([]);
    expect(r.secrets).toEqual(['slack', 'teams']);
    expect(r.playbook?.steps).toHaveLength(14);
  });

  it('reports schema errors on the field, choosing the step type as the discriminator', () => {
    const cases: [string, string, string][] = [
      ['  - { id: a, type: http }', 'steps[0].url', "'url' is required"],
      ['  - { id: a, type: teleport }', 'steps[0].type', "unknown type 'teleport'"],
      ['  - { id: a, type: comment, message: hi, colour: red }', 'steps[0].colour', "unknown field 'colour'"],
      ['  - { id: a, type: responseAction, action: formatDisk, target: x }', 'steps[0].action', 'must be one of'],
      ['  - { id: 1a, type: comment, message: hi }', 'steps[0].id', 'must match'],
      ['  - { id: a, type: comment, message: hi, timeout: soon }', 'steps[0].timeout', 'must match'],
      ['  - { id: a, type: forEach, items: [], steps: [] }', 'steps[0].steps', 'must not be empty'],
    ];
    for (const [steps, path, message] of cases) {
      const e = errors(pb(steps));
      expect(e[0]?.path, steps).toBe(path);
      expect(e[0]?.message, steps).toContain(message);
    }
    expect(errors('id: p\nname: P\nsteps: []')[0]?.message).toBe("'trigger' is required");
  });

  it('checks meaning: ids, expressions, step order, secrets, KQL templates', () => {
    const cases: [string, string, string, string][] = [
      [
        '  - { id: a, type: comment, message: x }\n  - { id: a, type: comment, message: y }',
        'steps[1].id',
        'playbook.duplicate-id',
        "'a' is already used",
      ],
      [
        '  - { id: a, type: comment, message: "${{ steps.b.output }}" }\n  - { id: b, type: comment, message: y }',
        'steps[0].message',
        'expression.step',
        "step 'b' has not run yet",
      ],
      [
        '  - { id: a, type: comment, message: "${{ stepz.b }}" }',
        'steps[0].message',
        'expression.name',
        "unknown name 'stepz'",
      ],
      [
        '  - { id: a, type: comment, message: "${{ secrets.hook }}" }',
        'steps[0].message',
        'playbook.secret-use',
        'secrets can only be used where they are sent',
      ],
      [
        '  - { id: a, type: http, url: "https://x.example", body: { t: "${{ secrets.hook }}" } }',
        'steps[0].body.t',
        'playbook.secret-use',
        'never reach',
      ],
      [
        '  - { id: a, type: kql, query: "T | where x == \'${{ trigger.incident.title }}\'" }',
        'steps[0].query',
        'playbook.kql-template',
        'injection',
      ],
      [
        '  - { id: a, type: comment, message: "${{ 1 + }}" }',
        'steps[0].message',
        'expression.syntax',
        'ends too early',
      ],
      ['  - { id: a, type: comment, if: "length(", message: x }', 'steps[0].if', 'expression.syntax', 'ends too early'],
      [
        '  - { id: a, type: ticket, system: jira, url: "https://j.example", title: t }',
        'steps[0]',
        'playbook.jira',
        'project key',
      ],
      ['  - { id: a, type: approval, title: t, expiresIn: 60d }', 'steps[0].expiresIn', 'playbook.expiry', '30 days'],
      [
        '  - id: a\n    type: forEach\n    items: []\n    steps: [{ id: b, type: comment, message: x }]\n  - { id: c, type: comment, message: "${{ steps.b.output }}" }',
        'steps[1].message',
        'expression.step',
        "step 'b' has not run yet",
      ],
    ];
    for (const [steps, path, code, message] of cases) {
      const e = errors(pb(steps));
      expect(e[0]?.path, steps).toBe(path);
      expect(e[0]?.code, steps).toBe(code);
      expect(e[0]?.message, steps).toContain(message);
    }
  });

  it('points into the string at an expression error', () => {
    const text = pb('  - { id: a, type: comment, message: "see ${{ 1 + }}" }');
    const d = errors(text)[0];
    expect(d?.code).toBe('expression.syntax');
    // The error is at the end of `1 + ` inside the quoted string.
    expect(text.slice(d?.start, (d?.start ?? 0) + 2)).toBe('}}');
  });

  it('loop steps read the loop variable and earlier outer steps', () => {
    const text = pb(`  - { id: first, type: setVariable, variable: v, value: 1 }
  - id: loop
    type: forEach
    items: \${{ trigger.entities }}
    as: ent
    steps:
      - { id: inner, type: comment, message: "\${{ ent.name }} \${{ steps.first.output.value }} \${{ index }}" }
      - { id: after, type: comment, message: "\${{ steps.inner.output.commentId }}" }
  - { id: done, type: comment, message: "\${{ steps.loop.output.count }}" }
`);
    expect(errors(text)).toEqual([]);
    expect(errors(pb('  - { id: a, type: comment, message: "${{ ent.name }}" }'))[0]?.message).toContain(
      "unknown name 'ent'",
    );
  });

  it('the shipped playbooks validate', () => {
    const dir = new URL('playbooks/', CONTENT);
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const f of files) {
      const r = parsePlaybook(readFileSync(new URL(f, dir), 'utf8'));
      expect(r.diagnostics, f).toEqual([]);
      expect(r.playbook?.id, f).toBe(f.replace(/\.yaml$/, ''));
    }
  });

  it('the schema validator handles refs, oneOf and additional properties', () => {
    expect(
      validateSchema(
        { id: 'p', name: 'P', trigger: { kind: 'incident' }, steps: [{ id: 'a', type: 'comment' }] },
        PLAYBOOK_SCHEMA,
      ),
    ).toEqual([{ path: ['steps', 0, 'message'], message: "'message' is required" }]);
  });
});
