/** Line icons (24px grid, stroke currentColor), drawn here to keep the first load small. */
import type { SVGProps } from 'react';

const paths: Record<string, string> = {
  incidents: 'M12 3l8 4v5c0 5-3.5 8.5-8 9-4.5-.5-8-4-8-9V7l8-4z M12 8v5 M12 16h.01',
  hunting: 'M11 4a7 7 0 1 0 0 14a7 7 0 0 0 0-14z M20 20l-4-4',
  rules: 'M4 6h16 M4 12h10 M4 18h7 M17 15l2 2 3-4',
  automation: 'M13 3L5 14h6l-1 7 8-11h-6l1-7z',
  connectors: 'M8 7V3 M16 7V3 M6 7h12v4a6 6 0 0 1-12 0V7z M12 17v4',
  health: 'M3 12h4l3-7 4 14 3-7h4',
  users:
    'M16 19v-1a4 4 0 0 0-4-4H7a4 4 0 0 0-4 4v1 M9.5 10a3 3 0 1 0 0-6a3 3 0 0 0 0 6z M21 19v-1a4 4 0 0 0-3-3.9 M16 4.1a3 3 0 0 1 0 5.8',
  start: 'M5 4v16 M5 4h11l-2 4 2 4H5',
  sun: 'M12 8a4 4 0 1 0 0 8a4 4 0 0 0 0-8z M12 2v2 M12 20v2 M4.9 4.9l1.4 1.4 M17.7 17.7l1.4 1.4 M2 12h2 M20 12h2 M4.9 19.1l1.4-1.4 M17.7 6.3l1.4-1.4',
  moon: 'M20 14.5A8 8 0 0 1 9.5 4a8 8 0 1 0 10.5 10.5z',
  play: 'M7 4l13 8-13 8V4z',
  stop: 'M6 6h12v12H6z',
  download: 'M12 4v11 M7 10l5 5 5-5 M5 20h14',
  copy: 'M9 9h10v10H9z M5 15V5h10',
  save: 'M5 4h11l3 3v13H5z M8 4v5h7 M8 20v-6h8v6',
  plus: 'M12 5v14 M5 12h14',
  chevron: 'M9 6l6 6-6 6',
  check: 'M5 12l5 5 9-11',
  x: 'M6 6l12 12 M18 6L6 18',
  refresh: 'M20 11a8 8 0 1 0-2.3 6.3 M20 4v7h-7',
  filter: 'M4 5h16l-6 8v6l-4-2v-4L4 5z',
  keyboard: 'M3 7h18v10H3z M7 11h.01 M11 11h.01 M15 11h.01 M8 14h8',
  logout: 'M15 4h4v16h-4 M10 8l-4 4 4 4 M6 12h10',
  upload: 'M12 20V9 M7 13l5-5 5 5 M5 4h14',
  chart: 'M4 20V4 M4 20h16 M8 16v-5 M12 16V8 M16 16v-3',
  table: 'M3 5h18v14H3z M3 10h18 M9 10v9',
  history: 'M12 7v5l3 2 M3.5 12a8.5 8.5 0 1 0 2.5-6 M3 4v4h4',
  link: 'M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1 M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1',
};

export function Icon({ name, ...rest }: { name: keyof typeof paths | string } & SVGProps<SVGSVGElement>) {
  return (
    <svg
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth={1.8}
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      {...rest}
    >
      <path d={paths[name] ?? ''} />
    </svg>
  );
}
