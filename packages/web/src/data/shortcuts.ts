/**
 * Triage keyboard shortcuts, as data: the queue and the incident page look keys up here, the help dialog lists
 * them. Keys are ignored while typing in a field.
 */
export type ShortcutAction =
  | 'next'
  | 'previous'
  | 'open'
  | 'select'
  | 'assignToMe'
  | 'activate'
  | 'close'
  | 'comment'
  | 'hunt'
  | 'search'
  | 'back'
  | 'help'
  | 'refresh';

export interface Shortcut {
  readonly key: string;
  readonly action: ShortcutAction;
  readonly label: string;
  readonly where: 'queue' | 'incident' | 'everywhere';
}

export const SHORTCUTS: readonly Shortcut[] = [
  { key: 'j', action: 'next', label: 'Next incident', where: 'queue' },
  { key: 'k', action: 'previous', label: 'Previous incident', where: 'queue' },
  { key: 'Enter', action: 'open', label: 'Open incident', where: 'queue' },
  { key: 'x', action: 'select', label: 'Select / deselect', where: 'queue' },
  { key: 'a', action: 'assignToMe', label: 'Assign to me', where: 'everywhere' },
  { key: 's', action: 'activate', label: 'Set status Active', where: 'everywhere' },
  { key: 'c', action: 'close', label: 'Close with classification', where: 'incident' },
  { key: 'm', action: 'comment', label: 'Write a comment', where: 'incident' },
  { key: 'h', action: 'hunt', label: 'Hunt on this incident', where: 'incident' },
  { key: '/', action: 'search', label: 'Search incidents', where: 'queue' },
  { key: 'Escape', action: 'back', label: 'Back to the queue', where: 'incident' },
  { key: 'r', action: 'refresh', label: 'Refresh', where: 'everywhere' },
  { key: '?', action: 'help', label: 'Show shortcuts', where: 'everywhere' },
];

/** The action for a key press on a page, or null (also null while typing in an input, textarea or editor). */
export function shortcutFor(
  event: { key: string; ctrlKey: boolean; metaKey: boolean; altKey: boolean; targetTag?: string; editable?: boolean },
  page: 'queue' | 'incident',
): ShortcutAction | null {
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  const tag = (event.targetTag ?? '').toUpperCase();
  if (event.editable || tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT') return null;
  const s = SHORTCUTS.find((x) => x.key === event.key && (x.where === page || x.where === 'everywhere'));
  return s?.action ?? null;
}
