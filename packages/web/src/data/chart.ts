/**
 * KQL `render` → a chart description for ECharts, outside React. Follows Kusto's conventions: the x axis is the
 * first datetime column (timechart/areachart/linechart) or the first column (bar/column/pie/scatter), the y axes are
 * the numeric columns, and a remaining string column splits the data into series.
 */
import type { EChartsOption } from 'echarts';
import type { Column } from '../api/types.js';
import { isNumericType, type Row } from './results.js';

export const CHART_KINDS = [
  'timechart',
  'linechart',
  'areachart',
  'stackedareachart',
  'barchart',
  'columnchart',
  'piechart',
  'scatterchart',
] as const;
export type ChartKind = (typeof CHART_KINDS)[number];

export interface RenderSpec {
  readonly kind: ChartKind;
  readonly title?: string;
  /** `stacked`, `stacked100`, `unstacked` (Kusto's `kind=` property). */
  readonly stacking?: string;
}

/** Replaces string literals and comments by spaces so that a `render` inside them is not found. */
function blankStringsAndComments(text: string): string {
  return text.replace(/\/\/[^\n]*|@?"(?:[^"\\\n]|\\.)*"|@?'(?:[^'\\\n]|\\.)*'/g, (m) => ' '.repeat(m.length));
}

/** The query's final `| render kind [with (...)]`, or null. */
export function renderFromQuery(text: string): RenderSpec | null {
  const clean = blankStringsAndComments(text);
  const m = /\|\s*render\s+([a-z]+)(?:\s+with\s*\(([^)]*)\))?\s*;?\s*$/i.exec(clean);
  if (!m) return null;
  const kind = (m[1] ?? '').toLowerCase();
  if (!(CHART_KINDS as readonly string[]).includes(kind)) return null;
  const props: Record<string, string> = {};
  const start = m.index + m[0].indexOf('(') + 1;
  const original = m[2] !== undefined ? text.slice(start, start + m[2].length) : '';
  for (const part of original.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0)
      props[part.slice(0, eq).trim().toLowerCase()] = part
        .slice(eq + 1)
        .trim()
        .replace(/^["']|["']$/g, '');
  }
  return {
    kind: kind as ChartKind,
    ...(props.title ? { title: props.title } : {}),
    ...(props.kind ? { stacking: props.kind } : {}),
  };
}

/** The API's `visualization` (the compiler's reading of `render`) as a chart spec; null for kinds not drawn. */
export function renderFromVisualization(
  v: { type: string; properties?: Readonly<Record<string, unknown>> } | null | undefined,
): RenderSpec | null {
  if (!v) return null;
  const kind = v.type.toLowerCase();
  if (!(CHART_KINDS as readonly string[]).includes(kind)) return null;
  const p = v.properties ?? {};
  return {
    kind: kind as ChartKind,
    ...(typeof p.title === 'string' && p.title ? { title: p.title } : {}),
    ...(typeof p.kind === 'string' && p.kind ? { stacking: p.kind } : {}),
  };
}

export interface ChartProblem {
  readonly problem: string;
}

interface Palette {
  readonly text: string;
  readonly grid: string;
  readonly colors: readonly string[];
}

export const DEFAULT_PALETTE: Palette = {
  text: '#9aa4b8',
  grid: 'rgba(128,140,170,0.18)',
  colors: ['#5b8cff', '#2fc6a4', '#f5a524', '#f06a6a', '#a78bfa', '#38bdf8', '#f472b6', '#84cc16', '#fb923c'],
};

function toNumber(v: unknown): number | null {
  if (v === null || v === undefined || v === '') return null;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : null;
}

/** Series values keyed by x, for one y column, split by the series column when there is one. */
function groupSeries(rows: readonly Row[], x: number, y: number, split: number | null, xKey: (v: unknown) => unknown) {
  const series = new Map<string, [unknown, number | null][]>();
  for (const r of rows) {
    const name = split === null ? '' : String(r[split] ?? '');
    const list = series.get(name) ?? [];
    series.set(name, list);
    list.push([xKey(r[x]), toNumber(r[y])]);
  }
  return series;
}

export function chartOption(
  spec: RenderSpec,
  columns: readonly Column[],
  rows: readonly Row[],
  palette: Palette = DEFAULT_PALETTE,
): EChartsOption | ChartProblem {
  if (rows.length === 0) return { problem: 'The query returned no rows to chart.' };
  const numeric = columns.map((c, i) => (isNumericType(c.type) ? i : -1)).filter((i) => i >= 0);
  const strings = columns.map((c, i) => (c.type === 'string' ? i : -1)).filter((i) => i >= 0);
  const datetime = columns.findIndex((c) => c.type === 'datetime');
  const base = {
    color: [...palette.colors],
    textStyle: { color: palette.text, fontFamily: 'Inter Variable, system-ui, sans-serif' },
    animation: false,
    ...(spec.title ? { title: { text: spec.title, textStyle: { color: palette.text, fontSize: 13 } } } : {}),
    tooltip: { trigger: spec.kind === 'piechart' ? ('item' as const) : ('axis' as const) },
  };
  const legend = (names: string[]) =>
    names.length > 1 ? { legend: { type: 'scroll' as const, bottom: 0, textStyle: { color: palette.text } } } : {};
  const axisStyle = {
    axisLine: { lineStyle: { color: palette.grid } },
    splitLine: { lineStyle: { color: palette.grid } },
    axisLabel: { color: palette.text },
  };

  if (spec.kind === 'piechart') {
    const label = strings[0] ?? 0;
    const value = numeric.find((i) => i !== label);
    if (value === undefined) return { problem: 'A pie chart needs a numeric column.' };
    return {
      ...base,
      legend: { type: 'scroll', orient: 'vertical', right: 8, top: 16, textStyle: { color: palette.text } },
      series: [
        {
          type: 'pie',
          radius: ['42%', '72%'],
          center: ['40%', '52%'],
          itemStyle: { borderColor: 'transparent', borderWidth: 2 },
          label: { color: palette.text },
          data: rows.map((r) => ({ name: String(r[label] ?? ''), value: toNumber(r[value]) ?? 0 })),
        },
      ],
    };
  }

  const timeLike = spec.kind === 'timechart' || spec.kind === 'linechart' || spec.kind.endsWith('areachart');
  const x = timeLike && datetime >= 0 ? datetime : 0;
  const ys = numeric.filter((i) => i !== x);
  if (ys.length === 0) return { problem: `A ${spec.kind} needs at least one numeric column besides the x axis.` };
  const split = strings.find((i) => i !== x) ?? null;
  const xIsTime = columns[x]?.type === 'datetime';
  const xIsNumber = isNumericType(columns[x]?.type ?? '');
  const xKey = (v: unknown) => (xIsTime ? Date.parse(String(v)) : xIsNumber ? toNumber(v) : String(v ?? ''));
  const stacked = spec.kind === 'stackedareachart' || spec.stacking === 'stacked' || spec.stacking === 'stacked100';

  if (spec.kind === 'barchart' || spec.kind === 'columnchart') {
    const categories = [...new Set(rows.map((r) => String(r[x] ?? '')))];
    const out: { type: 'bar'; name: string; data: (number | null)[]; stack?: string }[] = [];
    for (const y of ys) {
      for (const [name, points] of groupSeries(rows, x, y, split, (v) => String(v ?? ''))) {
        const byCat = new Map(points.map(([k, v]) => [k as string, v]));
        out.push({
          type: 'bar',
          name: name || columns[y]!.name,
          data: categories.map((c) => byCat.get(c) ?? null),
          ...(stacked ? { stack: 'all' } : {}),
        });
      }
    }
    const category = { type: 'category' as const, data: categories, ...axisStyle };
    const value = { type: 'value' as const, ...axisStyle };
    const horizontal = spec.kind === 'barchart';
    return {
      ...base,
      ...legend(out.map((s) => s.name)),
      grid: { left: horizontal ? 140 : 56, right: 24, top: spec.title ? 40 : 20, bottom: out.length > 1 ? 48 : 32 },
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? { ...category, inverse: true } : value,
      series: out,
    };
  }

  const type = spec.kind === 'scatterchart' ? ('scatter' as const) : ('line' as const);
  const area = spec.kind.endsWith('areachart');
  const series = [];
  for (const y of ys) {
    for (const [name, points] of groupSeries(rows, x, y, split, xKey)) {
      const sorted = type === 'line' ? [...points].sort((a, b) => Number(a[0]) - Number(b[0])) : points;
      series.push({
        type,
        name: split !== null && ys.length > 1 ? `${name}:${columns[y]!.name}` : name || columns[y]!.name,
        data: sorted,
        showSymbol: type === 'scatter' || sorted.length < 40,
        ...(type === 'scatter' ? { symbolSize: 7 } : { smooth: false, lineStyle: { width: 2 } }),
        ...(area ? { areaStyle: { opacity: 0.25 } } : {}),
        ...(stacked ? { stack: 'all' } : {}),
      });
    }
  }
  return {
    ...base,
    ...legend(series.map((s) => s.name)),
    grid: { left: 56, right: 24, top: spec.title ? 40 : 20, bottom: series.length > 1 ? 56 : 32 },
    xAxis: { type: xIsTime ? 'time' : xIsNumber ? 'value' : 'category', ...axisStyle, splitLine: { show: false } },
    yAxis: { type: 'value', ...axisStyle },
    series,
  } as EChartsOption;
}

export function isProblem(v: EChartsOption | ChartProblem): v is ChartProblem {
  return typeof (v as ChartProblem).problem === 'string';
}
