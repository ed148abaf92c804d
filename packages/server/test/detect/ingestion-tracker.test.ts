/**
 * The ingestion watermark (detect/ingestion-tracker.ts): no row committed later may get an ingestion time below it.
 * Loads of one lane are stamped in order, so a load in flight stamps after that lane's latest commit; priority
 * loads (alerts, rule runs) are a second lane the engine runs beside the first, so their commits say nothing about
 * where an ordinary load in flight will stamp.
 */
import { describe, expect, it } from 'vitest';
import { IngestionTracker } from '../../src/detect/ingestion-tracker.js';

describe('IngestionTracker watermark', () => {
  it('is held back by a load in flight, up to the latest commit of the same lane', () => {
    let now = 1_000;
    const tracker = new IngestionTracker({ clock: () => now });
    expect(tracker.watermarkMs()).toBe(1_000);
    const first = tracker.begin('DeviceProcessEvents');
    now = 1_200;
    const queued = tracker.begin('DeviceProcessEvents');
    // A priority load begins and commits while the first bulk load is still in flight: its stamp must not lift the
    // watermark past where that load may have stamped already (as early as 1,000).
    now = 2_000;
    const alert = tracker.begin('SecurityAlert', true);
    tracker.committed(alert, { table: 'SecurityAlert', batchId: 3, ingestionTime: new Date(1_900).toISOString() });
    expect(tracker.watermarkMs()).toBe(1_000);
    // The first bulk load commits: the one queued behind it in the same lane stamps after it.
    tracker.committed(first, {
      table: 'DeviceProcessEvents',
      batchId: 1,
      ingestionTime: new Date(1_500).toISOString(),
    });
    expect(tracker.watermarkMs()).toBe(1_501);
    tracker.committed(queued, {
      table: 'DeviceProcessEvents',
      batchId: 2,
      ingestionTime: new Date(1_950).toISOString(),
    });
    expect(tracker.watermarkMs()).toBe(2_000);
    expect(tracker.loadsInFlight).toBe(0);
  });

  it('bounds a priority load in flight by the latest priority commit', () => {
    let now = 5_000;
    const tracker = new IngestionTracker({ clock: () => now });
    const first = tracker.begin('SecurityAlert', true);
    const second = tracker.begin('SecurityAlert', true);
    now = 6_000;
    tracker.committed(first, { table: 'SecurityAlert', batchId: 1, ingestionTime: new Date(5_400).toISOString() });
    expect(tracker.watermarkMs()).toBe(5_401);
    tracker.aborted(second);
    expect(tracker.watermarkMs()).toBe(6_000);
  });
});
