/**
 * The simulated company: Contoso, with N workstations (one primary user each), five servers, IT admins, and the
 * places people sign in from. Everything derives from the seed.
 */
import { hash32, hexOf, Prng } from './prng.js';

export const UPN_SUFFIX = 'contoso.com';
export const NT_DOMAIN = 'CONTOSO';
export const DNS_DOMAIN = 'contoso.local';
export const TENANT_ID = '72f988bf-86f1-41af-91ab-2d7cd011db47';
export const OFFICE_EGRESS_IP = '203.0.113.10';

export interface User {
  readonly first: string;
  readonly last: string;
  readonly displayName: string;
  /** `first.last@contoso.com`, lower case. */
  readonly upn: string;
  /** sAMAccountName: first initial + last name. */
  readonly sam: string;
  readonly sid: string;
  readonly objectId: string;
  readonly department: string;
  /** A home IP (192.0.2.0/24) and its city, for remote sign-ins. */
  readonly homeIp: string;
  readonly homeCity: string;
  readonly homeState: string;
}

export interface Device {
  /** Lower-case FQDN, as Defender for Endpoint reports it. */
  readonly name: string;
  /** `WS-FIN-0231` / `SRV-FILE-01`. */
  readonly shortName: string;
  readonly id: string;
  readonly ip: string;
  readonly kind: 'workstation' | 'server';
  readonly department: string;
  /** The workstation's primary user (servers: none). */
  readonly user: User | null;
  readonly os: string;
}

export interface Company {
  readonly users: readonly User[];
  readonly workstations: readonly Device[];
  readonly servers: readonly Device[];
  readonly devices: readonly Device[];
  readonly byName: ReadonlyMap<string, Device>;
}

export const DEPARTMENTS = ['fin', 'hr', 'eng', 'sal', 'mkt', 'it', 'ops', 'leg'] as const;
/** Relative head counts per department. */
const DEPT_WEIGHTS: readonly (readonly [string, number])[] = [
  ['fin', 12],
  ['hr', 6],
  ['eng', 30],
  ['sal', 18],
  ['mkt', 10],
  ['it', 8],
  ['ops', 10],
  ['leg', 6],
];

const FIRST = [
  'James',
  'Mary',
  'Robert',
  'Patricia',
  'John',
  'Jennifer',
  'Michael',
  'Linda',
  'David',
  'Elizabeth',
  'William',
  'Barbara',
  'Richard',
  'Susan',
  'Joseph',
  'Jessica',
  'Thomas',
  'Sarah',
  'Carlos',
  'Karen',
  'Daniel',
  'Lisa',
  'Matthew',
  'Nancy',
  'Anthony',
  'Sandra',
  'Mark',
  'Ashley',
  'Steven',
  'Emily',
  'Paul',
  'Michelle',
  'Andrew',
  'Amanda',
  'Joshua',
  'Melissa',
  'Kevin',
  'Stephanie',
  'Brian',
  'Rebecca',
  'Priya',
  'Laura',
  'Wei',
  'Amy',
  'Omar',
  'Anna',
  'Hiroshi',
  'Nicole',
  'Diego',
  'Fatima',
  'Lukas',
  'Sofia',
  'Raj',
  'Olivia',
  'Mateo',
  'Chloe',
  'Kenji',
  'Grace',
  'Ahmed',
  'Hannah',
  'Ivan',
  'Zoe',
  'Tomas',
  'Aisha',
  'Noah',
  'Elena',
  'Samuel',
  'Maya',
  'Victor',
  'Leah',
];
const LAST = [
  'Smith',
  'Johnson',
  'Williams',
  'Brown',
  'Jones',
  'Garcia',
  'Miller',
  'Davis',
  'Rodriguez',
  'Martinez',
  'Hernandez',
  'Lopez',
  'Gonzalez',
  'Wilson',
  'Anderson',
  'Thomas',
  'Taylor',
  'Moore',
  'Jackson',
  'Martin',
  'Lee',
  'Perez',
  'Thompson',
  'White',
  'Harris',
  'Sanchez',
  'Clark',
  'Ramirez',
  'Lewis',
  'Robinson',
  'Walker',
  'Young',
  'Allen',
  'King',
  'Wright',
  'Scott',
  'Torres',
  'Nguyen',
  'Hill',
  'Flores',
  'Green',
  'Adams',
  'Nelson',
  'Baker',
  'Hall',
  'Rivera',
  'Campbell',
  'Mitchell',
  'Carter',
  'Roberts',
  'Chen',
  'Patel',
  'Kim',
  'Singh',
  'Muller',
  'Novak',
  'Tanaka',
  'Okafor',
  'Haddad',
  'Kowalski',
  'Morgan',
  'Bennett',
  'Reyes',
  'Foster',
  'Hughes',
  'Price',
];
const HOME_CITIES: readonly (readonly [string, string])[] = [
  ['Seattle', 'Washington'],
  ['Bellevue', 'Washington'],
  ['Redmond', 'Washington'],
  ['Tacoma', 'Washington'],
  ['Portland', 'Oregon'],
  ['Kirkland', 'Washington'],
  ['Everett', 'Washington'],
];

export const SERVERS: readonly { short: string; ip: string; os: string }[] = [
  { short: 'SRV-DC-01', ip: '10.1.0.10', os: 'WindowsServer2022' },
  { short: 'SRV-DC-02', ip: '10.1.0.11', os: 'WindowsServer2022' },
  { short: 'SRV-FILE-01', ip: '10.1.0.20', os: 'WindowsServer2019' },
  { short: 'SRV-SQL-01', ip: '10.1.0.30', os: 'WindowsServer2019' },
  { short: 'SRV-APP-01', ip: '10.1.0.40', os: 'WindowsServer2022' },
];

function sidOf(rid: number, seed: number): string {
  const a = 1000000000 + (hash32('a', seed) % 1000000000);
  const b = 1000000000 + (hash32('b', seed) % 1000000000);
  const c = 1000000000 + (hash32('c', seed) % 1000000000);
  return `S-1-5-21-${a}-${b}-${c}-${rid}`;
}

function guidOf(text: string): string {
  const h = hexOf(text, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
}

export function buildCompany(seed: number, deviceCount: number): Company {
  const rng = new Prng(hash32('company', seed));
  const users: User[] = [];
  const workstations: Device[] = [];
  const usedUpn = new Set<string>();
  const usedHost = new Set<string>();
  const perDept = new Map<string, number>();
  for (let i = 0; i < deviceCount; i++) {
    const department = rng.weighted(DEPT_WEIGHTS);
    let first = rng.pick(FIRST);
    let last = rng.pick(LAST);
    let upn = `${first}.${last}@${UPN_SUFFIX}`.toLowerCase();
    // Name collisions get a digit, as directories do.
    for (let n = 2; usedUpn.has(upn); n++) {
      first = rng.pick(FIRST);
      last = rng.pick(LAST);
      upn = `${first}.${last}@${UPN_SUFFIX}`.toLowerCase();
      if (n > 4) upn = `${first}.${last}${n}@${UPN_SUFFIX}`.toLowerCase();
    }
    usedUpn.add(upn);
    const [homeCity, homeState] = rng.pick(HOME_CITIES);
    const user: User = {
      first,
      last,
      displayName: `${first} ${last}`,
      upn,
      sam: `${first[0]}${last}${upn.match(/\d+@/)?.[0].slice(0, -1) ?? ''}`.toLowerCase(),
      sid: sidOf(1100 + i, seed),
      objectId: guidOf(`user:${seed}:${upn}`),
      department,
      homeIp: `192.0.2.${1 + (i % 254)}`,
      homeCity,
      homeState,
    };
    users.push(user);
    let num = rng.int(1, 9999);
    let short = `WS-${department.toUpperCase()}-${String(num).padStart(4, '0')}`;
    while (usedHost.has(short)) {
      num = (num % 9999) + 1;
      short = `WS-${department.toUpperCase()}-${String(num).padStart(4, '0')}`;
    }
    usedHost.add(short);
    const deptIndex = DEPARTMENTS.indexOf(department as (typeof DEPARTMENTS)[number]);
    const n = (perDept.get(department) ?? 0) + 1;
    perDept.set(department, n);
    workstations.push({
      name: `${short.toLowerCase()}.${DNS_DOMAIN}`,
      shortName: short,
      id: hexOf(`device:${seed}:${short}`, 40),
      ip: `10.1.${10 + deptIndex + 10 * Math.floor(n / 250)}.${1 + (n % 250)}`,
      kind: 'workstation',
      department,
      user,
      os: rng.chance(0.85) ? 'Windows11' : 'Windows10',
    });
  }
  const servers: Device[] = SERVERS.map((s) => ({
    name: `${s.short.toLowerCase()}.${DNS_DOMAIN}`,
    shortName: s.short,
    id: hexOf(`device:${seed}:${s.short}`, 40),
    ip: s.ip,
    kind: 'server',
    department: 'it',
    user: null,
    os: s.os,
  }));
  const devices = [...workstations, ...servers];
  return { users, workstations, servers, devices, byName: new Map(devices.map((d) => [d.shortName, d])) };
}
