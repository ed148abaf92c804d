/**
 * The API client's prefetch (the queue's first page asked for with the session check): the page's own request
 * takes the early answer over once; a failed early answer (a 401 before signing in) is not reused.
 */
import { describe, expect, it } from 'vitest';
import { ApiClient } from '../../src/api/client.js';

function fakeServer(statuses: number[]) {
  const calls: string[] = [];
  const fetcher = async (input: string) => {
    calls.push(input);
    const status = statuses.shift() ?? 200;
    return new Response(
      JSON.stringify(
        status === 200
          ? { items: [{ n: calls.length }], nextCursor: null }
          : { error: { code: 'unauthenticated', message: 'no' } },
      ),
      {
        status,
        headers: { 'content-type': 'application/json' },
      },
    );
  };
  return { calls, client: new ApiClient('', fetcher) };
}

describe('ApiClient.prefetch', () => {
  it('hands the early answer to the first matching request, once', async () => {
    const { calls, client } = fakeServer([200, 200]);
    const path = client.incidentsPath({ status: ['New', 'Active'], limit: 500 });
    expect(path).toBe('/api/workspaces/default/incidents?status=New%2CActive&limit=500');
    client.prefetch(path);
    const first = await client.incidents({ status: ['New', 'Active'], limit: 500 });
    expect(first.items).toEqual([{ n: 1 }]);
    expect(calls).toHaveLength(1);
    const second = await client.incidents({ status: ['New', 'Active'], limit: 500 });
    expect(second.items).toEqual([{ n: 2 }]);
    expect(calls).toHaveLength(2);
  });

  it('does not reuse a failed early answer, and ignores other paths', async () => {
    const { calls, client } = fakeServer([401, 200, 200]);
    client.prefetch(client.incidentsPath({ limit: 500 }));
    const other = await client.incidents({ limit: 50 });
    expect(other.items).toEqual([{ n: 2 }]);
    const page = await client.incidents({ limit: 500 });
    expect(page.items).toEqual([{ n: 3 }]);
    expect(calls).toHaveLength(3);
  });
});
