/** The results grid: virtualized rows, sortable and resizable columns, cell and table copy, CSV export. */
import { useVirtualizer } from '@tanstack/react-virtual';
import { useMemo, useRef, useState } from 'react';
import type { Column } from '../../api/types.js';
import { cellText, initialWidths, isNumericType, type Row, sortedIndexes, toCsv, toTsv } from '../../data/results.js';

export interface GridHandleActions {
  csv(): string;
  tsv(): string;
}

export function ResultsGrid({
  columns,
  rows,
  actionsRef,
}: {
  columns: readonly Column[];
  rows: readonly Row[];
  actionsRef?: { current: GridHandleActions | null };
}) {
  const [sort, setSort] = useState<{ col: number; dir: 'asc' | 'desc' } | null>(null);
  const [widths, setWidths] = useState(() => initialWidths(columns, rows));
  const scroller = useRef<HTMLDivElement>(null);
  const order = useMemo(
    () => (sort ? sortedIndexes(rows, sort.col, columns[sort.col]?.type ?? 'string', sort.dir) : rows.map((_, i) => i)),
    [rows, columns, sort],
  );
  if (actionsRef)
    actionsRef.current = {
      csv: () => toCsv(columns, rows, order),
      tsv: () =>
        toTsv(
          columns,
          order.map((i) => rows[i]!),
        ),
    };
  const virtual = useVirtualizer({
    count: order.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => 28,
    overscan: 20,
  });
  const total = widths.reduce((s, w) => s + w, 0) + 56;

  const startResize = (col: number, x0: number) => {
    const w0 = widths[col] ?? 120;
    const move = (e: MouseEvent) =>
      setWidths((ws) => ws.map((w, i) => (i === col ? Math.max(50, w0 + e.clientX - x0) : w)));
    const up = () => {
      window.removeEventListener('mousemove', move);
      window.removeEventListener('mouseup', up);
    };
    window.addEventListener('mousemove', move);
    window.addEventListener('mouseup', up);
  };

  return (
    <div className="grid" ref={scroller} data-testid="results-grid">
      <div className="gh" style={{ width: total }}>
        <div style={{ width: 56 }} className="muted">
          #
        </div>
        {columns.map((c, j) => (
          <div
            key={`${c.name}-${j}`}
            style={{ width: widths[j] }}
            role="columnheader"
            aria-sort={sort?.col === j ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none'}
            onClick={() =>
              setSort(sort?.col === j ? (sort.dir === 'asc' ? { col: j, dir: 'desc' } : null) : { col: j, dir: 'asc' })
            }
            title={`${c.name}: ${c.type}`}
          >
            {c.name} <span className="ty">{c.type}</span>
            {sort?.col === j && (sort.dir === 'asc' ? ' ↑' : ' ↓')}
            <span
              className="resize"
              onMouseDown={(e) => {
                e.preventDefault();
                e.stopPropagation();
                startResize(j, e.clientX);
              }}
              onClick={(e) => e.stopPropagation()}
            />
          </div>
        ))}
      </div>
      <div style={{ height: virtual.getTotalSize(), width: total, position: 'relative' }}>
        {virtual.getVirtualItems().map((v) => {
          const r = rows[order[v.index]!]!;
          return (
            <div key={v.key} className="gr" style={{ top: v.start, width: total }} data-testid="result-row">
              <div style={{ width: 56 }} className="muted num">
                {v.index + 1}
              </div>
              {columns.map((c, j) => {
                const text = cellText(r[j], c.type);
                return (
                  <div
                    key={`${c.name}-${j}`}
                    style={{ width: widths[j] }}
                    className={isNumericType(c.type) ? 'num' : ''}
                    title={text.length > 40 ? text.slice(0, 2000) : undefined}
                    onDoubleClick={() => void navigator.clipboard?.writeText(text)}
                  >
                    {text}
                  </div>
                );
              })}
            </div>
          );
        })}
      </div>
    </div>
  );
}
