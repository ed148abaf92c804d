/**
 * Prints a syntax tree as an indented S-expression for golden tests: `(Kind start..end attr=value` then one labeled
 * child per line. The layout follows each node's own properties in construction order, so it is stable and shows
 * everything the binder sees. Iterative (explicit stack), so arbitrarily deep trees cannot overflow the stack.
 */
import type { Node } from './nodes.js';

type Task = { kind: 'node'; node: Node; indent: string; label: string; close: string } | { kind: 'text'; text: string };

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as { kind?: unknown }).kind === 'string';
}

/** A scalar or a dynamic value, printed compactly (bigint as `5n`, strings JSON-quoted). */
function scalar(v: unknown): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'bigint':
      return `${v}n`;
    case 'number':
      return Number.isNaN(v) ? 'NaN' : Object.is(v, -0) ? '-0' : String(v);
    case 'boolean':
      return String(v);
    case 'undefined':
      return 'undefined';
    default:
      if (Array.isArray(v)) return `[${v.map(scalar).join(', ')}]`;
      return `{${Object.entries(v as Record<string, unknown>)
        .map(([k, x]) => `${JSON.stringify(k)}: ${scalar(x)}`)
        .join(', ')}}`;
  }
}

export function printTree(root: Node): string {
  const out: string[] = [];
  const stack: Task[] = [{ kind: 'node', node: root, indent: '', label: '', close: '' }];
  while (stack.length > 0) {
    const task = stack.pop() as Task;
    if (task.kind === 'text') {
      out.push(task.text);
      continue;
    }
    const { node, indent, label, close } = task;
    const attrs: string[] = [];
    const children: Task[] = [];
    const inner = `${indent}  `;
    for (const [key, value] of Object.entries(node)) {
      if (key === 'kind' || key === 'start' || key === 'end') continue;
      if (isNode(value)) {
        children.push({ kind: 'node', node: value, indent: inner, label: `${key}: `, close: '' });
      } else if (Array.isArray(value) && value.some(isNode)) {
        children.push({ kind: 'text', text: `${inner}${key}: [` });
        value.forEach((item: Node, i) => {
          const last = i === value.length - 1;
          children.push({ kind: 'node', node: item, indent: `${inner}  `, label: '', close: last ? ']' : '' });
        });
      } else {
        attrs.push(`${key}=${scalar(value)}`);
      }
    }
    const head = `${indent}${label}(${node.kind} ${node.start}..${node.end}${attrs.length ? ` ${attrs.join(' ')}` : ''}`;
    if (children.length === 0) {
      out.push(`${head})${close}`);
      continue;
    }
    out.push(head);
    // the closing parenthesis goes on the last line printed for this node
    const lastChild = children[children.length - 1] as Task;
    if (lastChild.kind === 'node') lastChild.close = `${lastChild.close})${close}`;
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i] as Task);
  }
  return out.join('\n');
}
