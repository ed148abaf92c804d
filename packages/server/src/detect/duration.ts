/**
 * Durations as rule files write them: the YAML templates' short form (`5m`, `1h`, `14d`, `30s`) and the ARM /
 * Graph ISO 8601 form (`PT5M`, `P1D`, `PT1H30M`, `12H`).
 */

const UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 };

/** Milliseconds, or null when the text is not a duration. */
export function parseDuration(text: string): number | null {
  const t = text.trim();
  const short = /^(\d+(?:\.\d+)?)\s*([smhd])$/i.exec(t);
  if (short?.[1] && short[2]) return Math.round(Number(short[1]) * (UNITS[short[2].toLowerCase()] ?? 0));
  const iso = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i.exec(t);
  if (iso && t.length > 1 && !/T$/i.test(t)) {
    const [, d, h, m, s] = iso;
    return Number(d ?? 0) * 86_400_000 + Number(h ?? 0) * 3600_000 + Number(m ?? 0) * 60_000 + Number(s ?? 0) * 1000;
  }
  return null;
}

/** The short form in the largest unit that divides the duration (`1d`, `90m`, `45s`). */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms / 1000}s`;
}

/** A readable duration for messages: `5 min`, `2 h`, `14 d`. */
export function describeDuration(ms: number): string {
  const f = formatDuration(ms);
  return f.replace(/m$/, ' min').replace(/([0-9.])([hds])$/, '$1 $2');
}
