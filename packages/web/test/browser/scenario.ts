/**
 * A small company's day, deterministic for a seed: background process, network, sign-in and e-mail events for a
 * few devices and users, one attack story across sources (phishing click, encoded PowerShell, C2 connection,
 * credential dumping, impossible travel), and product alerts as Defender would raise them. The rows go through the
 * real ingestion API; the product alerts through the incident service's product-alert intake.
 */

/** Mulberry32: a tiny deterministic PRNG. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const USERS = [
  'adele.vance',
  'alex.wilber',
  'megan.bowen',
  'lee.gu',
  'nestor.wilke',
  'isaiah.langer',
  'lynne.robbins',
  'diego.siciliani',
];
const DEVICES = Array.from({ length: 16 }, (_, i) => `ws-${String(i + 1).padStart(3, '0')}.contoso.com`);
const BENIGN = [
  ['chrome.exe', '"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe" --type=renderer'],
  ['outlook.exe', '"C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE"'],
  ['teams.exe', '"C:\\Users\\{u}\\AppData\\Local\\Microsoft\\Teams\\current\\Teams.exe" --system-initiated'],
  ['svchost.exe', 'C:\\Windows\\system32\\svchost.exe -k netsvcs -p'],
  ['excel.exe', '"C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE" /dde'],
  ['git.exe', 'git fetch --prune origin'],
  ['code.exe', '"C:\\Users\\{u}\\AppData\\Local\\Programs\\Microsoft VS Code\\Code.exe"'],
] as const;

export const VICTIM = {
  user: 'megan.bowen',
  upn: 'megan.bowen@contoso.com',
  device: 'ws-007.contoso.com',
  ip: '203.0.113.77',
};

export interface Scenario {
  readonly tables: Record<string, Record<string, unknown>[]>;
  readonly productAlerts: Record<string, unknown>[];
}

const iso = (ms: number) => new Date(ms).toISOString();

export function buildScenario(now: number, seed = 7): Scenario {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const proc: Record<string, unknown>[] = [];
  const net: Record<string, unknown>[] = [];
  const signins: Record<string, unknown>[] = [];
  const mail: Record<string, unknown>[] = [];
  // Background: 24 hours, one event every ~40 s of the day across the fleet.
  for (let i = 0; i < 2200; i++) {
    const t = now - Math.floor(r() * 24 * 3600_000);
    const u = pick(USERS);
    const d = pick(DEVICES);
    const [file, cmd] = pick(BENIGN);
    proc.push({
      Timestamp: iso(t),
      DeviceId: `dev-${d.slice(3, 6)}`,
      DeviceName: d,
      ActionType: 'ProcessCreated',
      FileName: file,
      FolderPath: `C:\\Program Files\\${file}`,
      ProcessCommandLine: cmd.replace('{u}', u),
      AccountName: u,
      AccountDomain: 'contoso',
      AccountUpn: `${u}@contoso.com`,
      InitiatingProcessFileName: 'explorer.exe',
      ReportId: i,
    });
    if (i % 3 === 0)
      net.push({
        Timestamp: iso(t),
        DeviceId: `dev-${d.slice(3, 6)}`,
        DeviceName: d,
        ActionType: 'ConnectionSuccess',
        RemoteIP: `13.107.${Math.floor(r() * 255)}.${Math.floor(r() * 255)}`,
        RemotePort: 443,
        RemoteUrl: pick(['outlook.office365.com', 'teams.microsoft.com', 'github.com', 'login.microsoftonline.com']),
        InitiatingProcessFileName: file,
        ReportId: i,
      });
    if (i % 5 === 0)
      signins.push({
        TimeGenerated: iso(t),
        UserPrincipalName: `${u}@contoso.com`,
        UserDisplayName: u.replace('.', ' '),
        AppDisplayName: pick(['Microsoft Teams', 'Office 365 Exchange Online', 'Azure Portal']),
        IPAddress: `198.51.100.${10 + Math.floor(r() * 40)}`,
        Location: 'US',
        ResultType: r() < 0.05 ? '50126' : '0',
        ResultDescription: '',
      });
    if (i % 7 === 0)
      mail.push({
        Timestamp: iso(t),
        NetworkMessageId: `msg-${i}`,
        SenderFromAddress: pick(['newsletter@fabrikam.com', 'hr@contoso.com', 'it@contoso.com']),
        RecipientEmailAddress: `${u}@contoso.com`,
        Subject: pick(['Weekly update', 'Benefits enrolment', 'Your ticket was resolved']),
        DeliveryAction: 'Delivered',
        ThreatTypes: '',
      });
  }
  // The attack story, 2 hours ago onwards.
  const t0 = now - 2 * 3600_000;
  mail.push({
    Timestamp: iso(t0),
    NetworkMessageId: 'msg-phish-1',
    SenderFromAddress: 'payroll@contoso-payroll.net',
    RecipientEmailAddress: VICTIM.upn,
    Subject: 'Action required: update your direct deposit',
    DeliveryAction: 'Delivered',
    ThreatTypes: 'Phish',
  });
  proc.push({
    Timestamp: iso(t0 + 6 * 60_000),
    DeviceId: 'dev-007',
    DeviceName: VICTIM.device,
    ActionType: 'ProcessCreated',
    FileName: 'powershell.exe',
    FolderPath: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
    ProcessCommandLine:
      'powershell.exe -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA',
    AccountName: VICTIM.user,
    AccountDomain: 'contoso',
    AccountUpn: VICTIM.upn,
    InitiatingProcessFileName: 'outlook.exe',
    ReportId: 900001,
  });
  net.push({
    Timestamp: iso(t0 + 7 * 60_000),
    DeviceId: 'dev-007',
    DeviceName: VICTIM.device,
    ActionType: 'ConnectionSuccess',
    RemoteIP: VICTIM.ip,
    RemotePort: 8443,
    RemoteUrl: 'cdn-update.azureedge-check.net',
    InitiatingProcessFileName: 'powershell.exe',
    ReportId: 900002,
  });
  signins.push({
    TimeGenerated: iso(t0 + 40 * 60_000),
    UserPrincipalName: VICTIM.upn,
    UserDisplayName: 'Megan Bowen',
    AppDisplayName: 'Office 365 Exchange Online',
    IPAddress: VICTIM.ip,
    Location: 'RU',
    ResultType: '0',
    ResultDescription: '',
  });
  const entities = (extra: Record<string, unknown>[]) =>
    JSON.stringify([
      {
        $id: '1',
        Type: 'account',
        Name: VICTIM.user,
        UPNSuffix: 'contoso.com',
        AadUserId: '6b1d7c2e-0001-4d7e-9a55-000000000007',
      },
      ...extra,
    ]);
  const alert = (
    id: string,
    at: number,
    name: string,
    sev: string,
    product: string,
    tactics: string,
    extra: Record<string, unknown>[],
  ) => ({
    TimeGenerated: iso(at + 60_000),
    SystemAlertId: id,
    AlertName: name,
    AlertSeverity: sev,
    Description: `${name} (${product})`,
    ProductName: product,
    ProviderName: product,
    VendorName: 'Microsoft',
    Status: 'New',
    StartTime: iso(at),
    EndTime: iso(at),
    Tactics: tactics,
    Entities: entities(extra),
  });
  const productAlerts: Record<string, unknown>[] = [
    alert(
      'da-0001',
      t0 + 5 * 60_000,
      'User clicked a malicious link in an e-mail',
      'Medium',
      'Microsoft Defender for Office 365',
      'InitialAccess',
      [
        { $id: '2', Type: 'mailbox', MailboxPrimaryAddress: VICTIM.upn },
        { $id: '3', Type: 'url', Url: 'https://contoso-payroll.net/login' },
      ],
    ),
    alert(
      'da-0002',
      t0 + 30 * 60_000,
      'Credential dumping from LSASS memory',
      'High',
      'Microsoft Defender for Endpoint',
      'CredentialAccess',
      [
        { $id: '2', Type: 'host', HostName: 'ws-007', DnsDomain: 'contoso.com', FQDN: VICTIM.device },
        {
          $id: '3',
          Type: 'process',
          CommandLine: 'rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump 624 lsass.dmp full',
        },
      ],
    ),
    alert(
      'da-0003',
      t0 + 40 * 60_000,
      'Impossible travel to atypical locations',
      'Medium',
      'Microsoft Entra ID Protection',
      'InitialAccess',
      [{ $id: '2', Type: 'ip', Address: VICTIM.ip }],
    ),
  ];
  // Unrelated alerts: a queue with some depth.
  const noise = [
    'Suspicious inbox forwarding rule',
    'Unusual sign-in volume',
    'Anomalous token',
    'Malware detected and quarantined',
    'Password spray against multiple accounts',
    'Suspicious service installation',
  ];
  for (let i = 0; i < 36; i++) {
    const u = USERS[i % USERS.length]!;
    const d = DEVICES[(i * 5) % DEVICES.length]!;
    const at = now - Math.floor(r() * 3 * 86400_000);
    productAlerts.push({
      ...alert(
        `na-${String(i).padStart(4, '0')}`,
        at,
        noise[i % noise.length]!,
        pick(['Low', 'Medium', 'Informational', 'High', 'Low']),
        pick(['Microsoft Defender for Endpoint', 'Microsoft Defender for Office 365', 'Microsoft Entra ID Protection']),
        pick(['Persistence', 'Discovery', 'Execution', 'CredentialAccess']),
        [],
      ),
      Entities: JSON.stringify([
        { $id: '1', Type: 'account', Name: `${u}.${i}`, UPNSuffix: 'contoso.com' },
        { $id: '2', Type: 'host', HostName: `${d.split('.')[0]}-${i}` },
      ]),
    });
  }
  return {
    tables: { DeviceProcessEvents: proc, DeviceNetworkEvents: net, SigninLogs: signins, EmailEvents: mail },
    productAlerts,
  };
}

/** The console's Vigil rule for the story (NRT, so it fires as the rows are committed). */
export const ENCODED_POWERSHELL_RULE = `id: 0b6f5d1e-7c1a-4c55-9f2e-51d0a9c3e001
name: Encoded PowerShell launched by an Office application
description: PowerShell started with an encoded command line by Outlook, Word or Excel.
severity: High
kind: NRT
query: |
  DeviceProcessEvents
  | where FileName =~ "powershell.exe" and ProcessCommandLine has_any ("-enc", "-EncodedCommand")
  | where InitiatingProcessFileName in~ ("outlook.exe", "winword.exe", "excel.exe")
  | project Timestamp, DeviceName, AccountUpn, AccountName, ProcessCommandLine
tactics:
  - Execution
relevantTechniques:
  - T1059.001
entityMappings:
  - entityType: Host
    fieldMappings:
      - identifier: FullName
        columnName: DeviceName
  - entityType: Account
    fieldMappings:
      - identifier: FullName
        columnName: AccountUpn
eventGroupingSettings:
  aggregationKind: AlertPerResult
incidentConfiguration:
  createIncident: true
  groupingConfiguration:
    enabled: false
    reopenClosedIncident: false
    lookbackDuration: 5h
    matchingMethod: AllEntities
version: 1.0.0
`;
