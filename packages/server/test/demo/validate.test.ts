/**
 * `validateWorkspace` on a server that is not ready for the checklist — no data, no automation rules — fails the
 * right steps with their reasons and still checks (and cleans up) what it can; and on a server that is down, fails
 * once with the cause.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningVigil, startVigil } from '../../src/api/server.js';
import { validateWorkspace } from '../../src/demo/validate.js';

const PASSWORD = 'validate-test-Pa55word';
let dir = '';
let server: RunningVigil | null = null;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-validate-test-'));
  server = await startVigil({
    dataDir: dir,
    port: 0,
    initialAdminPassword: PASSWORD,
    workspace: { scheduler: false },
  });
}, 60_000);

afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('vigil validate on a workspace that is not ready', () => {
  it('fails the steps that are not met, with their reasons, and closes its test incident', {
    timeout: 60_000,
  }, async () => {
    const report = await validateWorkspace({
      url: server?.url ?? '',
      user: 'admin',
      password: PASSWORD,
      timeoutMs: 1500,
    });
    const by = new Map(report.steps.map((s) => [s.name, s]));
    expect(report.ok).toBe(false);
    expect(by.get('Sign in')?.ok).toBe(true);
    expect(by.get('Connectors healthy and data arriving')).toMatchObject({
      ok: false,
      detail: 'no table of an enabled connector has received data',
    });
    // The test alert still makes its own incident, visible in SecurityIncident, with its entities.
    expect(by.get('Test alert seen as an incident')?.ok).toBe(true);
    expect(by.get('SecurityIncident query returns it')?.ok).toBe(true);
    expect(by.get('Entity mapping shows users, hosts and IPs')?.detail).toMatch(
      /^account vigil\.validate\..*; host .*; ip 100\./,
    );
    expect(by.get('Sample DeviceProcessEvents query')?.ok).toBe(false);
    expect(by.get('Automation rule applied tag, owner and tasks')).toMatchObject({
      ok: false,
      detail: 'no enabled automation rule runs when an incident is created',
    });
    expect(by.get('Test incident closed, closure in SecurityIncident')?.ok).toBe(true);

    // The clean-up: the test incident is closed, classified and tagged as the validation's.
    const ws = server?.manager.get('default');
    const incident = await ws?.incidents.getIncident(report.incidentNumber ?? 0);
    expect(incident).toMatchObject({ status: 'Closed', classification: 'BenignPositive' });
    expect(incident?.tags).toContain('vigil-validate');
  });

  it('fails once, with the cause, when the server cannot be reached', async () => {
    // A port that was free a moment ago.
    const probe = createServer();
    await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((done) => probe.close(done));
    const report = await validateWorkspace({ url: `http://127.0.0.1:${port}`, token: 'x' });
    expect(report.steps).toEqual([
      expect.objectContaining({ name: 'Server reachable', ok: false, detail: expect.stringContaining('ECONNREFUSED') }),
    ]);
    expect(report.ok).toBe(false);
  });
});
