/**
 * Live updates for the queue: polls the durable incident event feed (`/incident-events?after=seq`) and hands the
 * changed incidents (latest version per incident) to the page. The first call skips to the end of the feed.
 */
import { api } from '../../api/client.js';
import type { Incident } from '../../api/types.js';

export function followIncidents(onChange: (changed: Incident[]) => void, intervalMs = 2500): () => void {
  let after = -1;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = async () => {
    try {
      if (after < 0) {
        // Skip history: page to the end without rendering anything.
        after = 0;
        for (;;) {
          const page = await api.incidentEvents(after);
          const last = page.items[page.items.length - 1];
          if (last) after = last.seq;
          if (page.items.length < 500) break;
        }
      } else {
        const page = await api.incidentEvents(after);
        const latest = new Map<string, Incident>();
        for (const e of page.items) {
          after = Math.max(after, e.seq);
          if (e.incident) latest.set(e.incident.id, e.incident);
        }
        if (latest.size && !stopped) onChange([...latest.values()]);
      }
    } catch {
      // The feed is best effort: the next tick tries again.
    }
    if (!stopped) timer = setTimeout(tick, intervalMs);
  };
  void tick();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
