/**
 * Background activity of the company, one simulated second at a time: processes, connections, files, registry,
 * logons, sign-ins, mail, server security events and firewall traffic. Rates are per device (or user) per minute;
 * each second draws how many events of each kind happen and at which millisecond.
 *
 * Nothing here may look like the attack stories (no encoded PowerShell, dump tools, PsExec, Run keys, risky
 * sign-ins, delivered phish): the content's rules must stay quiet on it. See STORIES.md.
 */
import {
  BLOCKED_PHISH,
  type Destination,
  EXE,
  type Executable,
  INTERNAL_SERVICES,
  INTERNAL_SUBJECTS,
  NEWSLETTERS,
  SCAN_PORTS,
  SIGNIN_APPS,
  WEB,
} from './catalog.js';
import { type Device, OFFICE_EGRESS_IP, type User } from './company.js';
import type { Prng } from './prng.js';
import {
  type Account,
  accountOf,
  type Ctx,
  emailRow,
  emailUrlRow,
  fileRow,
  firewallRow,
  logonEventFields,
  logonRow,
  networkRow,
  type ProcessRef,
  processEventFields,
  processRow,
  registryRow,
  type Sink,
  SYSTEM,
  securityEventRow,
  signinRow,
  urlClickRow,
} from './rows.js';

/** Events per workstation per simulated minute. */
export const RATES = {
  process: 2,
  network: 4,
  file: 0.8,
  registry: 0.5,
  logon: 0.08,
  /** Per server per minute. */
  serverProcess: 1.5,
  serverLogon: 3,
  /** Per user per minute. */
  signin: 1 / 60,
  email: 0.1,
  /** Denied inbound scans per minute (whole company). */
  scans: 6,
} as const;

export const OFFICE_PLACE = {
  ip: OFFICE_EGRESS_IP,
  country: 'US',
  city: 'Seattle',
  state: 'Washington',
  lat: 47.6062,
  lon: -122.3321,
};

const USER_APPS: readonly (readonly [Executable, number, readonly string[] | null])[] = [
  [EXE.chrome, 6, null],
  [EXE.msedge, 6, null],
  [EXE.outlook, 3, null],
  [EXE.teams, 3, null],
  [EXE.excel, 3, ['fin', 'sal', 'ops']],
  [EXE.winword, 3, ['hr', 'leg', 'mkt']],
  [EXE.powerpnt, 1, ['mkt', 'sal']],
  [EXE.oneDrive, 1, null],
  [EXE.git, 5, ['eng']],
  [EXE.code, 4, ['eng']],
];

const SYSTEM_PROCS: readonly (readonly [Executable, string, number])[] = [
  [EXE.svchost, 'C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule', 4],
  [EXE.svchost, 'C:\\Windows\\System32\\svchost.exe -k LocalServiceNetworkRestricted -p', 3],
  [EXE.taskhostw, 'taskhostw.exe Install $(Arg0)', 2],
  [EXE.searchIndexer, 'C:\\Windows\\system32\\SearchIndexer.exe /Embedding', 1],
  [EXE.wmiprvse, 'C:\\Windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding', 1],
];

const BENIGN_SHELL: readonly (readonly [Executable, string])[] = [
  [EXE.cmd, 'cmd.exe /c ipconfig /all'],
  [EXE.cmd, 'cmd.exe /c dir "%USERPROFILE%\\Documents"'],
  [EXE.cmd, 'cmd.exe /c net use S: \\\\srv-file-01\\shared /persistent:yes'],
  [
    EXE.powershell,
    'powershell.exe -NoProfile -ExecutionPolicy Bypass -File "C:\\Program Files\\Contoso\\Inventory\\collect.ps1"',
  ],
  [EXE.powershell, 'powershell.exe -NoProfile -Command Get-Date'],
  [
    EXE.powershell,
    'powershell.exe -NoLogo -Command "Get-Process | Sort-Object CPU -Descending | Select-Object -First 5"',
  ],
];

const DOC_TYPES: readonly (readonly [string, string[]])[] = [
  ['docx', ['Meeting notes', 'Proposal', 'Policy draft', 'Offer letter', 'Contract']],
  ['xlsx', ['Budget', 'Forecast', 'Pipeline', 'Expenses', 'Headcount']],
  ['pdf', ['Invoice', 'Statement', 'Whitepaper', 'Brochure', 'Receipt']],
  ['pptx', ['Quarterly review', 'Roadmap', 'Kickoff', 'Customer pitch']],
];

const REGISTRY: readonly (readonly [string, string, (rng: Prng) => string, 'user' | 'system'])[] = [
  [
    'HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\RecentDocs\\.docx',
    'MRUListEx',
    (r) => r.hex(16),
    'user',
  ],
  [
    'HKEY_CURRENT_USER\\Software\\Microsoft\\Office\\16.0\\Excel\\User MRU\\ADAL_1\\File MRU',
    'Item 1',
    (r) => `[F00000000][T01DB${r.hex(11).toUpperCase()}][O00000000]*C:\\Users\\Documents\\Budget.xlsx`,
    'user',
  ],
  [
    'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows Defender\\Signature Updates',
    'AVSignatureVersion',
    (r) => `1.421.${r.int(100, 999)}.0`,
    'system',
  ],
  [
    'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\Results\\Detect',
    'LastSuccessTime',
    () => 'ok',
    'system',
  ],
];

/** A process reference for an app a user runs (fresh pid; created a little earlier). */
function proc(rng: Prng, exe: Executable, commandLine: string, at: number, justStarted = false): ProcessRef {
  return { exe, commandLine, pid: rng.int(1000, 30000), createdSimMs: justStarted ? at : at - rng.int(1000, 600_000) };
}

function explorer(dev: Device): ProcessRef {
  return {
    exe: EXE.explorer,
    commandLine: 'C:\\Windows\\Explorer.EXE',
    pid: 4000 + (parseInt(dev.id.slice(0, 4), 16) % 4000),
    createdSimMs: -3_600_000,
  };
}

function services(dev: Device): ProcessRef {
  return {
    exe: EXE.services,
    commandLine: 'C:\\Windows\\system32\\services.exe',
    pid: 600 + (parseInt(dev.id.slice(4, 6), 16) % 200),
    createdSimMs: -86_400_000,
  };
}

function appCommandLine(exe: Executable, rng: Prng, user: User): string {
  switch (exe) {
    case EXE.chrome:
      return '"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe"';
    case EXE.msedge:
      return '"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe" --single-argument';
    case EXE.git:
      return rng.pick(['git.exe pull --rebase', 'git.exe fetch origin', 'git.exe status', 'git.exe commit -m "wip"']);
    case EXE.code:
      return '"C:\\Program Files\\Microsoft VS Code\\Code.exe"';
    case EXE.excel:
      return `"${EXE.excel.folderPath}" "C:\\Users\\${user.sam}\\Documents\\Budget.xlsx"`;
    case EXE.winword:
      return `"${EXE.winword.folderPath}" /n "C:\\Users\\${user.sam}\\Documents\\Notes.docx"`;
    default:
      return `"${exe.folderPath}"`;
  }
}

const WEB_WEIGHTED = WEB.map((w) => [w, w.weight] as const);
const SERVICES_WEIGHTED = INTERNAL_SERVICES.map((s) => [s, s.weight] as const);
const APPS_WEIGHTED = SIGNIN_APPS.map(([a, id, w]) => [[a, id] as const, w] as const);
const USER_APPS_WEIGHTED = USER_APPS.map((a) => [a, a[1]] as const);

function destinationFor(rng: Prng, dept: string): Destination {
  for (;;) {
    const d = rng.weighted(WEB_WEIGHTED);
    if (!d.departments || d.departments.includes(dept)) return d;
  }
}

/** One simulated second of background activity starting at `at` (ms since the simulation start). */
export function backgroundSecond(ctx: Ctx, rng: Prng, at: number, sink: Sink): void {
  const { workstations, servers, users } = ctx.company;
  const n = workstations.length;
  const ms = () => at + rng.int(0, 999);
  const ws = () => rng.pick(workstations);

  for (let i = rng.count((RATES.process * n) / 60); i > 0; i--) {
    const dev = ws();
    const user = dev.user!;
    const t = ms();
    const kind = rng.int(0, 99);
    if (kind < 70) {
      const app = pickApp(rng, dev.department);
      const p = proc(rng, app, appCommandLine(app, rng, user), t, true);
      sink.push('DeviceProcessEvents', t, processRow(ctx, t, dev, accountOf(user), p, explorer(dev), null));
    } else if (kind < 90) {
      const [exe, cmd] = SYSTEM_PROCS[rng.int(0, SYSTEM_PROCS.length - 1)]!;
      sink.push(
        'DeviceProcessEvents',
        t,
        processRow(ctx, t, dev, SYSTEM, proc(rng, exe, cmd, t, true), services(dev), null, 'System'),
      );
    } else {
      const [exe, cmd] = rng.pick(BENIGN_SHELL);
      const shell = proc(rng, exe, cmd, t, true);
      sink.push('DeviceProcessEvents', t, processRow(ctx, t, dev, accountOf(user), shell, explorer(dev), null));
      const host = proc(rng, EXE.conhost, '\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1', t + 3, true);
      sink.push('DeviceProcessEvents', t + 3, processRow(ctx, t + 3, dev, accountOf(user), host, shell, EXE.explorer));
    }
  }

  for (let i = rng.count((RATES.network * n) / 60); i > 0; i--) {
    const dev = ws();
    const user = dev.user!;
    const t = ms();
    if (rng.chance(0.2)) {
      const svc = rng.weighted(SERVICES_WEIGHTED);
      const server = ctx.company.byName.get(svc.server)!;
      const initiator =
        svc.port === 445
          ? { exe: EXE.explorer, cmd: 'C:\\Windows\\Explorer.EXE', acct: accountOf(user) }
          : { exe: EXE.svchost, cmd: 'C:\\Windows\\system32\\svchost.exe -k NetworkService -p', acct: SYSTEM };
      sink.push(
        'DeviceNetworkEvents',
        t,
        networkRow(
          ctx,
          t,
          dev,
          initiator.acct,
          proc(rng, initiator.exe, initiator.cmd, t),
          {
            ip: server.ip,
            port: svc.port,
            url: null,
            internal: true,
          },
          rng.int(49152, 65535),
        ),
      );
      continue;
    }
    const dest = destinationFor(rng, dev.department);
    const app = rng.weighted<Executable>([
      [EXE.msedge, 4],
      [EXE.chrome, 4],
      [dest.domain.includes('outlook') ? EXE.outlook : EXE.teams, 2],
      [dest.domain.includes('sharepoint') ? EXE.oneDrive : EXE.msedge, 1],
    ]);
    const failed = rng.chance(0.01);
    const port = rng.int(49152, 65535);
    sink.push(
      'DeviceNetworkEvents',
      t,
      networkRow(
        ctx,
        t,
        dev,
        accountOf(user),
        proc(rng, app, appCommandLine(app, rng, user), t),
        { ip: dest.ip, port: 443, url: dest.domain, internal: false },
        port,
        failed ? 'ConnectionFailed' : 'ConnectionSuccess',
      ),
    );
    if (!failed && rng.chance(0.25))
      sink.push(
        'CommonSecurityLog',
        t + 40,
        firewallRow(ctx, t + 40, rng, {
          src: dev.ip,
          srcPort: port,
          dst: dest.ip,
          dstPort: 443,
          action: 'allow',
          user: `contoso\\${user.sam}`,
          outbound: true,
        }),
      );
  }

  for (let i = rng.count((RATES.file * n) / 60); i > 0; i--) {
    const dev = ws();
    const user = dev.user!;
    const t = ms();
    const [ext, names] = rng.pick(DOC_TYPES);
    const name = `${rng.pick(names)} ${rng.int(2024, 2026)}${rng.chance(0.3) ? ` v${rng.int(2, 9)}` : ''}.${ext}`;
    const download = rng.chance(0.3);
    const app = download
      ? rng.pick([EXE.msedge, EXE.chrome])
      : ext === 'xlsx'
        ? EXE.excel
        : ext === 'pptx'
          ? EXE.powerpnt
          : EXE.winword;
    const dest = download ? destinationFor(rng, dev.department) : null;
    sink.push(
      'DeviceFileEvents',
      t,
      fileRow(
        ctx,
        t,
        dev,
        accountOf(user),
        proc(rng, app, appCommandLine(app, rng, user), t),
        {
          name,
          folder: `C:\\Users\\${user.sam}\\${download ? 'Downloads' : 'Documents'}`,
          size: rng.int(12_000, 4_000_000),
          sha256: rng.hex(64),
          ...(dest
            ? { originUrl: `https://${dest.domain}/files/${rng.hex(8)}/${encodeURIComponent(name)}`, originIp: dest.ip }
            : {}),
        },
        download || rng.chance(0.5) ? 'FileCreated' : 'FileModified',
      ),
    );
  }

  for (let i = rng.count((RATES.registry * n) / 60); i > 0; i--) {
    const dev = ws();
    const user = dev.user!;
    const t = ms();
    const [key, value, data, scope] = rng.pick(REGISTRY);
    const acct: Account = scope === 'user' ? accountOf(user) : SYSTEM;
    const p = scope === 'user' ? explorer(dev) : proc(rng, EXE.msMpEng, `"${EXE.msMpEng.folderPath}"`, t);
    sink.push(
      'DeviceRegistryEvents',
      t,
      registryRow(
        ctx,
        t,
        dev,
        acct,
        p,
        key.replace('HKEY_CURRENT_USER', `HKEY_CURRENT_USER\\${user.sid}`),
        value,
        data(rng),
        scope === 'user' ? 'Binary' : 'String',
      ),
    );
  }

  for (let i = rng.count((RATES.logon * n) / 60); i > 0; i--) {
    const dev = ws();
    const t = ms();
    const ok = !rng.chance(0.04);
    const type = ok
      ? rng.weighted([
          ['Interactive', 3],
          ['Unlock', 5],
          ['CachedInteractive', 1],
        ] as const)
      : 'Interactive';
    sink.push('DeviceLogonEvents', t, logonRow(ctx, t, dev, accountOf(dev.user!), type, ok));
  }

  // Servers: processes (also as 4688) and logons (4624/4625, and Network logons in DeviceLogonEvents).
  for (let i = rng.count((RATES.serverProcess * servers.length) / 60); i > 0; i--) {
    const dev = rng.pick(servers);
    const t = ms();
    const [exe, cmd] = rng.weighted<readonly [Executable, string]>([
      [[EXE.svchost, 'C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule'], 4],
      [[EXE.wsmprovhost, 'C:\\Windows\\system32\\wsmprovhost.exe -Embedding'], 1],
      [
        [EXE.backup, '"C:\\Program Files\\Contoso\\Backup\\backup.exe" --incremental'],
        dev.shortName === 'SRV-FILE-01' ? 3 : 0.2,
      ],
      [
        [
          EXE.sqlservr,
          '"C:\\Program Files\\Microsoft SQL Server\\MSSQL15.MSSQLSERVER\\MSSQL\\Binn\\sqlservr.exe" -sMSSQLSERVER',
        ],
        dev.shortName === 'SRV-SQL-01' ? 2 : 0,
      ],
    ]);
    const p = proc(rng, exe, cmd, t, true);
    sink.push('DeviceProcessEvents', t, processRow(ctx, t, dev, SYSTEM, p, services(dev), null, 'System'));
    sink.push(
      'SecurityEvent',
      t + 1,
      securityEventRow(ctx, t + 1, dev, 4688, processEventFields(SYSTEM, exe, cmd, EXE.services)),
    );
  }

  for (let i = rng.count((RATES.serverLogon * servers.length) / 60); i > 0; i--) {
    const dev = rng.pick(servers);
    const from = ws();
    const user = from.user!;
    const t = ms();
    const ok = !rng.chance(0.03);
    const acct = accountOf(user);
    sink.push(
      'SecurityEvent',
      t,
      securityEventRow(
        ctx,
        t,
        dev,
        ok ? 4624 : 4625,
        logonEventFields(acct, 3, { ip: from.ip, workstation: from.shortName }, ok),
      ),
    );
    if (ok && rng.chance(0.5))
      sink.push(
        'DeviceLogonEvents',
        t,
        logonRow(ctx, t, dev, acct, 'Network', true, { device: from.name, ip: from.ip }, 'Kerberos'),
      );
  }

  // Sign-ins: about once an hour per user, from the office or home.
  for (let i = rng.count((RATES.signin * users.length) / 60); i > 0; i--) {
    const dev = ws();
    const user = dev.user!;
    const t = ms();
    const [app, appId] = rng.weighted(APPS_WEIGHTED);
    const home = rng.chance(0.3);
    const place = home
      ? {
          ip: user.homeIp,
          country: 'US',
          city: user.homeCity,
          state: user.homeState,
          lat: 47.6 + rng.int(-50, 50) / 100,
          lon: -122.3 + rng.int(-50, 50) / 100,
        }
      : OFFICE_PLACE;
    const bad = rng.chance(0.03);
    sink.push(
      'SigninLogs',
      t,
      signinRow(
        ctx,
        rng,
        t,
        user,
        dev,
        [app, appId],
        place,
        bad
          ? {
              code: '50126',
              description: 'Error validating credentials due to invalid username or password.',
              failure: 'Invalid username or password or Invalid on-premise username or password.',
            }
          : { code: '0', description: '' },
      ),
    );
  }

  // Mail: internal, newsletters, and a blocked phish now and then; a few benign clicks.
  for (let i = rng.count((RATES.email * users.length) / 60); i > 0; i--) {
    const to = rng.pick(users);
    const t = ms();
    const id = rng.guid();
    const r = rng.int(0, 99);
    if (r < 2) {
      const p = rng.pick(BLOCKED_PHISH);
      sink.push(
        'EmailEvents',
        t,
        emailRow(ctx, t, {
          id,
          from: p.from,
          fromDomain: p.domain,
          fromName: p.domain,
          senderIp: p.ip,
          to,
          subject: p.subject,
          direction: 'Inbound',
          delivery: 'Blocked',
          threatTypes: 'Phish',
          urlCount: 1,
          attachmentCount: 0,
        }),
      );
      sink.push('EmailUrlInfo', t, emailUrlRow(ctx, t, id, `https://${p.domain}/view/${rng.hex(10)}`));
    } else if (r < 55) {
      const from = rng.pick(users);
      sink.push(
        'EmailEvents',
        t,
        emailRow(ctx, t, {
          id,
          from: from.upn,
          fromDomain: 'contoso.com',
          fromName: from.displayName,
          senderIp: '10.1.0.25',
          to,
          subject: rng.pick(INTERNAL_SUBJECTS),
          direction: 'Intra-org',
          delivery: 'Delivered',
          threatTypes: '',
          urlCount: 0,
          attachmentCount: rng.chance(0.3) ? 1 : 0,
        }),
      );
    } else {
      const n = rng.pick(NEWSLETTERS);
      const url = `https://${n.domain}/e/${rng.hex(12)}`;
      sink.push(
        'EmailEvents',
        t,
        emailRow(ctx, t, {
          id,
          from: n.from,
          fromDomain: n.domain,
          fromName: n.domain,
          senderIp: n.ip,
          to,
          subject: rng.pick(n.subjects),
          direction: 'Inbound',
          delivery: 'Delivered',
          threatTypes: '',
          urlCount: 1,
          attachmentCount: 0,
        }),
      );
      sink.push('EmailUrlInfo', t, emailUrlRow(ctx, t, id, url));
      if (rng.chance(0.15)) {
        const click = t + rng.int(30_000, 1_800_000);
        sink.push(
          'UrlClickEvents',
          click,
          urlClickRow(ctx, click, to, url, id, rng.chance(0.7) ? OFFICE_EGRESS_IP : to.homeIp),
        );
      }
    }
  }

  // Internet scanners knocking on the egress address.
  for (let i = rng.count(RATES.scans / 60); i > 0; i--) {
    const t = ms();
    sink.push(
      'CommonSecurityLog',
      t,
      firewallRow(ctx, t, rng, {
        src: `${rng.int(23, 223)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`,
        srcPort: rng.int(1024, 65535),
        dst: OFFICE_EGRESS_IP,
        dstPort: rng.pick(SCAN_PORTS),
        action: 'deny',
        user: null,
        outbound: false,
      }),
    );
  }
}

function pickApp(rng: Prng, dept: string): Executable {
  for (;;) {
    const [exe, , depts] = rng.weighted(USER_APPS_WEIGHTED);
    if (!depts || depts.includes(dept)) return exe;
  }
}

const MODELS: readonly (readonly [string, string])[] = [
  ['Dell Inc.', 'Latitude 7440'],
  ['Dell Inc.', 'OptiPlex 7010'],
  ['LENOVO', 'ThinkPad T14 Gen 4'],
  ['HP', 'EliteBook 840 G10'],
  ['Microsoft Corporation', 'Surface Laptop 5'],
];

/** DeviceInfo: every device's inventory snapshot (Defender sends one when it changes and about hourly). */
export function inventory(ctx: Ctx, at: number, sink: Sink): void {
  for (const dev of ctx.company.devices) {
    const h = parseInt(dev.id.slice(0, 6), 16);
    const server = dev.kind === 'server';
    const [vendor, model] = server
      ? (['Microsoft Corporation', 'Virtual Machine'] as const)
      : MODELS[h % MODELS.length]!;
    const t = at + (h % 900) * 1000;
    sink.push('DeviceInfo', t, {
      Timestamp: ctx.time(t),
      DeviceId: dev.id,
      DeviceName: dev.name,
      ClientVersion: '10.8760.26100.3624',
      PublicIP: OFFICE_EGRESS_IP,
      OSArchitecture: '64-bit',
      OSPlatform: dev.os,
      OSBuild: server ? (dev.os === 'WindowsServer2022' ? 20348 : 17763) : dev.os === 'Windows11' ? 26100 : 19045,
      OSVersion: server ? '10.0' : dev.os === 'Windows11' ? '24H2' : '22H2',
      OSDistribution: null,
      IsAzureADJoined: !server,
      JoinType: server ? 'Domain Joined' : 'Hybrid Azure AD Join',
      AadDeviceId: server
        ? null
        : `${dev.id.slice(0, 8)}-${dev.id.slice(8, 12)}-${dev.id.slice(12, 16)}-${dev.id.slice(16, 20)}-${dev.id.slice(20, 32)}`,
      LoggedOnUsers: JSON.stringify(
        dev.user ? [{ UserName: dev.user.sam, DomainName: 'CONTOSO', Sid: dev.user.sid }] : [],
      ),
      MachineGroup: server ? 'Servers' : `Workstations - ${dev.department.toUpperCase()}`,
      OnboardingStatus: 'Onboarded',
      SensorHealthState: 'Active',
      DeviceCategory: 'Endpoint',
      DeviceType: server ? 'Server' : 'Workstation',
      Vendor: vendor,
      Model: model,
      ExposureLevel: server ? 'Medium' : 'Low',
      AssetValue: server && dev.shortName.startsWith('SRV-DC') ? 'High' : 'Normal',
      IsInternetFacing: false,
      IsExcluded: false,
      ConnectivityType: 'Streamlined',
      ReportId: ctx.reportId(),
    });
  }
}
