/**
 * MITRE ATT&CK tactics in kill-chain order (Sentinel's names, as alerts carry them) and the automatic incident
 * title, in Defender XDR's style: "Multi-stage incident involving Execution & Command and control on one endpoint
 * reported by multiple sources", "Initial access incident involving one user", or the alert's own title when the
 * incident holds one kind of alert.
 */

/** Sentinel tactic names in kill-chain order, with Defender's display names. */
export const TACTICS: readonly { readonly name: string; readonly display: string }[] = [
  { name: 'Reconnaissance', display: 'Reconnaissance' },
  { name: 'ResourceDevelopment', display: 'Resource development' },
  { name: 'PreAttack', display: 'Pre-attack' },
  { name: 'InitialAccess', display: 'Initial access' },
  { name: 'Execution', display: 'Execution' },
  { name: 'Persistence', display: 'Persistence' },
  { name: 'PrivilegeEscalation', display: 'Privilege escalation' },
  { name: 'DefenseEvasion', display: 'Defense evasion' },
  { name: 'CredentialAccess', display: 'Credential access' },
  { name: 'Discovery', display: 'Discovery' },
  { name: 'LateralMovement', display: 'Lateral movement' },
  { name: 'Collection', display: 'Collection' },
  { name: 'CommandAndControl', display: 'Command and control' },
  { name: 'Exfiltration', display: 'Exfiltration' },
  { name: 'Impact', display: 'Impact' },
  { name: 'ImpairProcessControl', display: 'Impair process control' },
  { name: 'InhibitResponseFunction', display: 'Inhibit response function' },
];

const BY_KEY = new Map(TACTICS.map((t, i) => [t.name.toLowerCase(), { ...t, order: i }] as const));

/** A tactic as alerts spell it (`Command and Control`, `command-and-control`, `TA0011`?) → Sentinel's name. */
export function canonicalTactic(text: string): string | null {
  const key = text.replace(/[\s_&-]/g, '').toLowerCase();
  if (key === '') return null;
  const hit = BY_KEY.get(key) ?? BY_KEY.get(key.replace(/^and/, ''));
  return hit ? hit.name : null;
}

/** Kill-chain position (unknown tactics sort last). */
export function tacticOrder(name: string): number {
  return BY_KEY.get(name.toLowerCase())?.order ?? TACTICS.length;
}

export function tacticDisplay(name: string): string {
  return BY_KEY.get(name.toLowerCase())?.display ?? name;
}

/** Tactics de-duplicated and sorted in kill-chain order. */
export function sortTactics(list: Iterable<string>): string[] {
  return [...new Set(list)].sort((a, b) => tacticOrder(a) - tacticOrder(b) || (a < b ? -1 : a > b ? 1 : 0));
}

export interface NamingFacts {
  readonly tactics: readonly string[];
  /** Distinct alert titles (up to two are enough to know whether there are several). */
  readonly alertTitles: readonly string[];
  readonly alertCount: number;
  readonly hostCount: number;
  /** Accounts and mailboxes. */
  readonly userCount: number;
  /** Distinct products (sources) that reported the alerts. */
  readonly sourceCount: number;
}

/** The automatic title. */
export function incidentTitle(f: NamingFacts): string {
  const scope =
    f.hostCount === 1
      ? ' on one endpoint'
      : f.hostCount > 1
        ? ' on multiple endpoints'
        : f.userCount === 1
          ? ' involving one user'
          : f.userCount > 1
            ? ' involving multiple users'
            : '';
  const sources = f.sourceCount > 1 ? ' reported by multiple sources' : '';
  const tactics = sortTactics(f.tactics).filter((t) => BY_KEY.has(t.toLowerCase()));
  let head: string;
  if (f.alertTitles.length === 1 && f.alertTitles[0]) {
    // One kind of alert: its title says more than a tactic.
    head = f.alertTitles[0];
  } else if (tactics.length >= 2) {
    const first = tacticDisplay(tactics[0] as string);
    const last = tacticDisplay(tactics[tactics.length - 1] as string);
    head = `Multi-stage incident involving ${first} & ${last}`;
  } else if (tactics.length === 1) {
    head = `${tacticDisplay(tactics[0] as string)} incident`;
  } else {
    head = 'Multiple alerts';
  }
  const title = `${head}${scope}${sources}`;
  return title.length > 256 ? title.slice(0, 256) : title;
}
