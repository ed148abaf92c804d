/**
 * The gate that lets a few ingestion bodies be received at a time (server/body-gate.ts): order, release, the wait
 * bound that keeps a slow sender from holding the others back; and the budget of bytes allocated ahead of their
 * arrival (server/raw-body.ts).
 */
import { describe, expect, it } from 'vitest';
import { BodyGate } from '../../src/server/body-gate.js';
import { PreallocationBudget } from '../../src/server/raw-body.js';

describe('BodyGate', () => {
  it('lets `slots` requests in at once and the next ones in arrival order as slots are left', async () => {
    const gate = new BodyGate(2, 60_000);
    const order: string[] = [];
    const a = await gate.enter();
    const b = await gate.enter();
    expect(gate.receiving).toBe(2);
    const c = gate.enter().then((leave) => {
      order.push('c');
      return leave;
    });
    const d = gate.enter().then((leave) => {
      order.push('d');
      return leave;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(order).toEqual([]);
    a();
    a(); // a second call is a no-op: it must not let two waiters in
    const leaveC = await c;
    expect(order).toEqual(['c']);
    expect(gate.receiving).toBe(2);
    b();
    const leaveD = await d;
    expect(order).toEqual(['c', 'd']);
    leaveC();
    leaveD();
    expect(gate.receiving).toBe(0);
  });

  it('lets a waiter in after the wait bound even when no slot was left', async () => {
    const gate = new BodyGate(1, 50);
    const slow = await gate.enter();
    const started = performance.now();
    const leave = await gate.enter();
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
    expect(gate.receiving).toBe(2);
    leave();
    slow();
    expect(gate.receiving).toBe(0);
    // The timed-out waiter is no longer queued: the next one gets the free slot at once.
    const next = await gate.enter();
    expect(gate.receiving).toBe(1);
    next();
  });
});

describe('PreallocationBudget', () => {
  it('reserves bodies while they fit, gives each back once, and never reserves unknown lengths', () => {
    const budget = new PreallocationBudget(100);
    const a = budget.take(60);
    expect(a).toBeDefined();
    expect(budget.take(50)).toBeUndefined(); // 110 > 100: this body keeps its chunks instead
    const b = budget.take(40);
    expect(b).toBeDefined();
    a?.();
    a?.(); // a second give-back must not free someone else's bytes
    expect(budget.take(61)).toBeUndefined();
    expect(budget.take(60)).toBeDefined();
    expect(budget.take(Number.NaN)).toBeUndefined();
    expect(budget.take(0)).toBeUndefined();
  });
});
