/** A `render` chart drawn with ECharts (loaded with the hunting page; tree-shaken to the chart types used). */
import { BarChart, LineChart, PieChart, ScatterChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TitleComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useMemo, useRef } from 'react';
import type { Column } from '../../api/types.js';
import { chartOption, DEFAULT_PALETTE, isProblem, type RenderSpec } from '../../data/chart.js';
import type { Row } from '../../data/results.js';

echarts.use([
  LineChart,
  BarChart,
  PieChart,
  ScatterChart,
  GridComponent,
  LegendComponent,
  TitleComponent,
  TooltipComponent,
  CanvasRenderer,
]);

export function Chart({
  spec,
  columns,
  rows,
  theme,
}: {
  spec: RenderSpec;
  columns: readonly Column[];
  rows: readonly Row[];
  theme: 'dark' | 'light';
}) {
  const host = useRef<HTMLDivElement>(null);
  const option = useMemo(
    () =>
      chartOption(spec, columns, rows, {
        ...DEFAULT_PALETTE,
        text: theme === 'dark' ? '#a9b4c6' : '#4a5568',
        grid: theme === 'dark' ? 'rgba(128,140,170,0.18)' : 'rgba(60,70,90,0.12)',
      }),
    [spec, columns, rows, theme],
  );
  useEffect(() => {
    if (!host.current || isProblem(option)) return;
    const chart = echarts.init(host.current, undefined, { renderer: 'canvas' });
    chart.setOption(option);
    const resize = new ResizeObserver(() => chart.resize());
    resize.observe(host.current);
    return () => {
      resize.disconnect();
      chart.dispose();
    };
  }, [option]);
  if (isProblem(option)) return <div className="empty">{option.problem}</div>;
  return <div className="chart-box" ref={host} data-testid="chart" data-kind={spec.kind} />;
}
