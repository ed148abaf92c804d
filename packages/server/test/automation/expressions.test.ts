// biome-ignore-all lint/suspicious/noTemplateCurlyInString: playbook expressions are written `${{ ... }}` inside plain strings.
/** Playbook expressions: parsing, evaluation, templates, and the references validation reads. */
import { describe, expect, it } from 'vitest';
import {
  ExpressionError,
  evaluate,
  evaluateCondition,
  parseExpression,
  parseTemplate,
  referencedPaths,
  renderString,
  renderValue,
} from '../../src/automation/expressions.js';

const ctx = { now: () => Date.parse('2026-03-02T09:00:00Z') };
const scope = {
  trigger: {
    incident: { number: 7, severity: 'High', tags: ['a', 'B'], owner: null },
    entities: [
      { type: 'ip', name: '10.1.1.1', Address: '10.1.1.1' },
      { type: 'host', name: 'ws01', HostName: 'ws01' },
      { type: 'ip', name: '8.8.8.8', Address: '8.8.8.8' },
    ],
  },
  steps: { 'per-ip': { output: { count: 2 } }, ti: { output: { found: true, matches: [{ d: 'x' }, { d: 'y' }] } } },
  vars: { n: 3 },
};
const ev = (text: string) => evaluate(parseExpression(text), scope, ctx);

describe('expressions', () => {
  it('reads paths, indexes (negative from the end) and missing fields as null', () => {
    expect(ev('trigger.incident.number')).toBe(7);
    expect(ev('steps.ti.output.matches[1].d')).toBe('y');
    expect(ev('steps.ti.output.matches[-1].d')).toBe('y');
    expect(ev("trigger.incident['severity']")).toBe('High');
    expect(ev('trigger.nothing.deeper.still')).toBeNull();
    expect(ev('steps.per-ip.output.count')).toBe(2);
  });

  it('has operators with the documented semantics', () => {
    expect(ev('vars.n * 2 + 1')).toBe(7);
    expect(ev('vars.n - 1')).toBe(2);
    expect(ev('7 % 4')).toBe(3);
    expect(ev('1 / 0')).toBeNull();
    expect(ev("'a' + vars.n")).toBe('a3');
    expect(ev("trigger.incident.severity == 'high'")).toBe(false);
    expect(ev("trigger.incident.severity =~ 'high'")).toBe(true);
    expect(ev("trigger.incident.severity != 'Low' && vars.n >= 3")).toBe(true);
    expect(ev("'B' in trigger.incident.tags")).toBe(true);
    expect(ev("'b' in trigger.incident.tags")).toBe(false);
    expect(ev('trigger.incident.owner || "nobody"')).toBe('nobody');
    expect(ev('steps.ti.output.found ? "hit" : "miss"')).toBe('hit');
    expect(ev('!steps.ti.output.found')).toBe(false);
    expect(ev('[1, 2] == [1, 2]')).toBe(true);
    expect(ev("'2026-01-02' < '2026-02-01'")).toBe(true);
    expect(ev("1 < 'x'")).toBe(false);
  });

  it('calls functions', () => {
    expect(ev("pluck(entities('ip'), 'Address')")).toEqual(['10.1.1.1', '8.8.8.8']);
    expect(ev('length(entities())')).toBe(3);
    expect(ev("join(pluck(entities('IP'), 'name'), '; ')")).toBe('10.1.1.1; 8.8.8.8');
    expect(ev("first(where(trigger.entities, 'type', 'HOST')).HostName")).toBe('ws01');
    expect(ev("contains(trigger.incident.tags, 'b')")).toBe(true);
    expect(ev("contains('Hello World', 'WORLD')")).toBe(true);
    expect(ev("default(trigger.incident.owner, 'queue')")).toBe('queue');
    expect(ev("coalesce(null, '', 'x')")).toBe('x');
    expect(ev('unique([1, 1, 2])')).toEqual([1, 2]);
    expect(ev('fromJson(\'{"a": 1}\').a')).toBe(1);
    expect(ev('json([1])')).toBe('[1]');
    expect(ev("number('42')")).toBe(42);
    expect(ev("number('x')")).toBeNull();
    expect(ev('round(2.345, 2)')).toBe(2.35);
    expect(ev("split('a,b', ',')")).toEqual(['a', 'b']);
    expect(ev("replace('a-b-c', '-', '+')")).toBe('a+b+c');
    expect(ev("urlEncode('a b&c')")).toBe('a%20b%26c');
    expect(ev('now()')).toBe('2026-03-02T09:00:00.000Z');
  });

  it('reports syntax errors with their offset', () => {
    const at = (text: string) => {
      try {
        parseExpression(text);
        return null;
      } catch (e) {
        return e instanceof ExpressionError ? [e.message, e.offset] : null;
      }
    };
    expect(at('a +')).toEqual(['the expression ends too early', 3]);
    expect(at('nope(1)')).toEqual(["unknown function 'nope'", 0]);
    expect(at('length(1, 2)')).toEqual(['length() takes 1 argument', 0]);
    expect(at("'open")).toEqual(['unterminated string', 0]);
    expect(at('a ; b')?.[1]).toBe(2);
  });

  it('renders templates: a lone expression keeps its type, mixed text becomes text', () => {
    expect(renderString('${{ vars.n }}', scope, ctx)).toBe(3);
    expect(renderString('n=${{ vars.n }}, tags=${{ trigger.incident.tags }}', scope, ctx)).toBe('n=3, tags=["a","B"]');
    expect(renderString("${{ '}}' }}", scope, ctx)).toBe('}}');
    expect(renderValue({ a: ['${{ vars.n }}', 'x'], b: { c: '${{ trigger.incident.number }}' } }, scope, ctx)).toEqual({
      a: [3, 'x'],
      b: { c: 7 },
    });
    expect(() => parseTemplate('x ${{ vars.n')).toThrow(/without its closing/);
  });

  it('evaluates conditions written with or without ${{ }}', () => {
    expect(evaluateCondition('steps.ti.output.found', scope, ctx)).toBe(true);
    expect(evaluateCondition('${{ length(steps.ti.output.matches) > 5 }}', scope, ctx)).toBe(false);
    expect(evaluateCondition(false, scope, ctx)).toBe(false);
    // Empty lists are false.
    expect(evaluateCondition("where(trigger.entities, 'type', 'url')", scope, ctx)).toBe(false);
  });

  it('lists the paths an expression reads', () => {
    expect(referencedPaths(parseExpression("steps.ti.output.found && length(secrets.hook) > 0 && item['x']"))).toEqual([
      ['steps', 'ti', 'output', 'found'],
      ['secrets', 'hook'],
      ['item', 'x'],
    ]);
  });
});
