/** Display formatting shared by every page (pure: takes `now` where time matters, so tests are exact). */

const UNITS: readonly [number, string][] = [
  [365 * 86400_000, 'y'],
  [30 * 86400_000, 'mo'],
  [7 * 86400_000, 'w'],
  [86400_000, 'd'],
  [3600_000, 'h'],
  [60_000, 'm'],
];

/** `3h ago`, `just now`, `in 5m`; '—' for no date. */
export function relativeTime(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '—';
  const diff = now - t;
  const abs = Math.abs(diff);
  if (abs < 45_000) return 'just now';
  for (const [ms, unit] of UNITS) {
    if (abs >= ms) {
      const n = Math.floor(abs / ms);
      return diff >= 0 ? `${n}${unit} ago` : `in ${n}${unit}`;
    }
  }
  return diff >= 0 ? '1m ago' : 'in 1m';
}

/** `2026-11-27 14:03:05` in UTC (analysts compare times across tools: one zone everywhere). */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return String(iso);
  return new Date(t)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$|Z$/, '');
}

export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = Math.abs(n);
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const s = i === 0 ? String(Math.round(v)) : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
  return `${n < 0 ? '-' : ''}${s} ${units[i]}`;
}

export function formatNumber(n: number): string {
  return new Intl.NumberFormat('en-US').format(n);
}

/** `1h`, `5m`, `14d`, `90s` from milliseconds (rule schedules). */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0';
  if (ms % 86400_000 === 0) return `${ms / 86400_000}d`;
  if (ms % 3600_000 === 0) return `${ms / 3600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** Parses `5m`, `1h`, `14d`, `30s` back to milliseconds; null when it is not a duration. */
export function parseDuration(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/i.exec(text);
  if (!m) return null;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3600_000, d: 86400_000 }[(m[2] ?? 's').toLowerCase() as 's'];
  return Math.round(Number(m[1]) * unit);
}

/** Initials for an avatar: `mia@contoso.com` → `MI`, `Mia Wong` → `MW`. */
export function initials(name: string): string {
  const base = name.split('@')[0] ?? name;
  const parts = base.split(/[\s._-]+/).filter(Boolean);
  if (parts.length >= 2) return `${parts[0]![0]}${parts[1]![0]}`.toUpperCase();
  return base.slice(0, 2).toUpperCase();
}

/** Camel case to words: `TruePositive` → `True positive`. */
export function words(id: string): string {
  const s = id.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[-_]/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1).toLowerCase();
}
