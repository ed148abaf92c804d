/**
 * Row builders: one function per table (and per kind of event), filling the columns a real tenant fills, with the
 * exact names and types of `content/schema/tables.json` (datetimes as ISO text, dynamics as JSON values, JSON held
 * in string columns as text — as Sentinel stores them).
 */

import type { Executable } from './catalog.js';
import { type Company, type Device, NT_DOMAIN, TENANT_ID, type User } from './company.js';
import type { Prng } from './prng.js';

export type Row = Record<string, unknown>;

/** Where rows go, with their simulated time (ms since the simulation start). */
export interface Sink {
  push(table: string, atSimMs: number, row: Row): void;
}

export interface Account {
  readonly domain: string;
  readonly name: string;
  readonly sid: string;
  readonly upn: string;
  readonly objectId: string;
}

export const SYSTEM: Account = { domain: 'nt authority', name: 'system', sid: 'S-1-5-18', upn: '', objectId: '' };
export const NETWORK_SERVICE: Account = {
  domain: 'nt authority',
  name: 'network service',
  sid: 'S-1-5-20',
  upn: '',
  objectId: '',
};

const ACCOUNTS = new WeakMap<User, Account>();

/** The user's account as Defender reports it (one object per user: rows are many, users few). */
export function accountOf(user: User): Account {
  let a = ACCOUNTS.get(user);
  if (!a) {
    a = { domain: NT_DOMAIN.toLowerCase(), name: user.sam, sid: user.sid, upn: user.upn, objectId: user.objectId };
    ACCOUNTS.set(user, a);
  }
  return a;
}

/** The simulation's clock and counters, shared by background and stories. */
export class Ctx {
  private report = 1000;

  constructor(
    readonly company: Company,
    /** Wall-clock ms of simulated time 0. */
    readonly startMs: number,
    /** Simulated seconds per real second: simulated intervals are divided by it when stamped. */
    readonly speed: number,
  ) {}

  private readonly prefixes = new Map<number, string>();

  /**
   * The ISO timestamp of a simulated instant. Minute prefixes are cached (toISOString was the hot spot; rows refer
   * to a few minutes at a time: now, and their parent process's start).
   */
  time(simMs: number): string {
    const ms = this.startMs + Math.floor(simMs / this.speed);
    const minute = Math.floor(ms / 60_000);
    let prefix = this.prefixes.get(minute);
    if (prefix === undefined) {
      if (this.prefixes.size > 4096) this.prefixes.clear();
      prefix = new Date(minute * 60_000).toISOString().slice(0, 17);
      this.prefixes.set(minute, prefix);
    }
    const rest = ms - minute * 60_000;
    const s = Math.floor(rest / 1000);
    const m = rest - s * 1000;
    return `${prefix}${s < 10 ? '0' : ''}${s}.${m < 10 ? '00' : m < 100 ? '0' : ''}${m}Z`;
  }

  reportId(): number {
    return this.report++;
  }
}

export interface ProcessRef {
  readonly exe: Executable;
  readonly commandLine: string;
  readonly pid: number;
  readonly createdSimMs: number;
}

/** DeviceProcessEvents `ProcessCreated`. */
export function processRow(
  c: Ctx,
  at: number,
  dev: Device,
  account: Account,
  proc: ProcessRef,
  parent: ProcessRef,
  grandparent: Executable | null,
  integrity = 'Medium',
): Row {
  const t = c.time(at);
  return {
    Timestamp: t,
    DeviceId: dev.id,
    DeviceName: dev.name,
    ActionType: 'ProcessCreated',
    FileName: proc.exe.fileName,
    FolderPath: proc.exe.folderPath,
    SHA1: proc.exe.sha1,
    SHA256: proc.exe.sha256,
    MD5: proc.exe.md5,
    FileSize: proc.exe.size,
    ProcessVersionInfoCompanyName: proc.exe.company,
    ProcessVersionInfoProductName: proc.exe.product,
    ProcessVersionInfoOriginalFileName: proc.exe.originalFileName,
    ProcessVersionInfoFileDescription: proc.exe.description,
    ProcessId: proc.pid,
    ProcessCommandLine: proc.commandLine,
    ProcessIntegrityLevel: integrity,
    ProcessTokenElevation: integrity === 'System' ? 'TokenElevationTypeDefault' : 'TokenElevationTypeLimited',
    ProcessCreationTime: t,
    AccountDomain: account.domain,
    AccountName: account.name,
    AccountSid: account.sid,
    AccountUpn: account.upn || null,
    AccountObjectId: account.objectId || null,
    LogonId: account === SYSTEM ? 999 : 0x3e7000 + (proc.pid % 4096),
    InitiatingProcessAccountDomain: account.domain,
    InitiatingProcessAccountName: account.name,
    InitiatingProcessAccountSid: account.sid,
    InitiatingProcessAccountUpn: account.upn || null,
    InitiatingProcessAccountObjectId: account.objectId || null,
    InitiatingProcessIntegrityLevel: integrity,
    InitiatingProcessSHA1: parent.exe.sha1,
    InitiatingProcessSHA256: parent.exe.sha256,
    InitiatingProcessMD5: parent.exe.md5,
    InitiatingProcessFileName: parent.exe.fileName,
    InitiatingProcessFileSize: parent.exe.size,
    InitiatingProcessVersionInfoCompanyName: parent.exe.company,
    InitiatingProcessVersionInfoProductName: parent.exe.product,
    InitiatingProcessVersionInfoOriginalFileName: parent.exe.originalFileName,
    InitiatingProcessVersionInfoFileDescription: parent.exe.description,
    InitiatingProcessId: parent.pid,
    InitiatingProcessCommandLine: parent.commandLine,
    InitiatingProcessCreationTime: c.time(parent.createdSimMs),
    InitiatingProcessFolderPath: parent.exe.folderPath,
    InitiatingProcessParentFileName: grandparent?.fileName ?? null,
    InitiatingProcessParentId: grandparent ? 400 + (parent.pid % 600) : null,
    ReportId: c.reportId(),
    IsProcessRemoteSession: false,
    IsInitiatingProcessRemoteSession: false,
  };
}

function initiating(c: Ctx, proc: ProcessRef, account: Account): Row {
  return {
    InitiatingProcessFileName: proc.exe.fileName,
    InitiatingProcessFolderPath: proc.exe.folderPath,
    InitiatingProcessSHA1: proc.exe.sha1,
    InitiatingProcessSHA256: proc.exe.sha256,
    InitiatingProcessMD5: proc.exe.md5,
    InitiatingProcessFileSize: proc.exe.size,
    InitiatingProcessVersionInfoCompanyName: proc.exe.company,
    InitiatingProcessVersionInfoProductName: proc.exe.product,
    InitiatingProcessVersionInfoOriginalFileName: proc.exe.originalFileName,
    InitiatingProcessVersionInfoFileDescription: proc.exe.description,
    InitiatingProcessId: proc.pid,
    InitiatingProcessCommandLine: proc.commandLine,
    InitiatingProcessCreationTime: c.time(proc.createdSimMs),
    InitiatingProcessAccountDomain: account.domain,
    InitiatingProcessAccountName: account.name,
    InitiatingProcessAccountSid: account.sid,
    InitiatingProcessAccountUpn: account.upn || null,
    InitiatingProcessAccountObjectId: account.objectId || null,
    InitiatingProcessIntegrityLevel: account === SYSTEM ? 'System' : 'Medium',
  };
}

/** DeviceNetworkEvents. */
export function networkRow(
  c: Ctx,
  at: number,
  dev: Device,
  account: Account,
  proc: ProcessRef,
  remote: { ip: string; port: number; url: string | null; internal: boolean },
  localPort: number,
  actionType = 'ConnectionSuccess',
): Row {
  return {
    Timestamp: c.time(at),
    DeviceId: dev.id,
    DeviceName: dev.name,
    ActionType: actionType,
    RemoteIP: remote.ip,
    RemotePort: remote.port,
    RemoteUrl: remote.url,
    LocalIP: dev.ip,
    LocalPort: localPort,
    Protocol: 'Tcp',
    LocalIPType: 'Private',
    RemoteIPType: remote.internal ? 'Private' : 'Public',
    ...initiating(c, proc, account),
    ReportId: c.reportId(),
  };
}

/** DeviceFileEvents. */
export function fileRow(
  c: Ctx,
  at: number,
  dev: Device,
  account: Account,
  proc: ProcessRef,
  file: { name: string; folder: string; size: number; sha256: string; originUrl?: string; originIp?: string },
  actionType = 'FileCreated',
): Row {
  return {
    Timestamp: c.time(at),
    DeviceId: dev.id,
    DeviceName: dev.name,
    ActionType: actionType,
    FileName: file.name,
    FolderPath: `${file.folder}\\${file.name}`,
    SHA256: file.sha256,
    SHA1: file.sha256.slice(0, 40),
    MD5: file.sha256.slice(0, 32),
    FileSize: file.size,
    FileOriginUrl: file.originUrl ?? null,
    FileOriginIP: file.originIp ?? null,
    ...initiating(c, proc, account),
    ReportId: c.reportId(),
  };
}

/** DeviceRegistryEvents. */
export function registryRow(
  c: Ctx,
  at: number,
  dev: Device,
  account: Account,
  proc: ProcessRef,
  key: string,
  valueName: string,
  valueData: string,
  valueType = 'String',
): Row {
  return {
    Timestamp: c.time(at),
    DeviceId: dev.id,
    DeviceName: dev.name,
    ActionType: 'RegistryValueSet',
    RegistryKey: key,
    RegistryValueType: valueType,
    RegistryValueName: valueName,
    RegistryValueData: valueData,
    ...initiating(c, proc, account),
    ReportId: c.reportId(),
  };
}

/** DeviceLogonEvents. */
export function logonRow(
  c: Ctx,
  at: number,
  dev: Device,
  account: Account,
  logonType: string,
  success: boolean,
  remote: { device: string | null; ip: string | null; port?: number } = { device: null, ip: null },
  protocol = 'Negotiate',
): Row {
  return {
    Timestamp: c.time(at),
    DeviceId: dev.id,
    DeviceName: dev.name,
    ActionType: success ? 'LogonSuccess' : 'LogonFailed',
    LogonType: logonType,
    AccountDomain: account.domain,
    AccountName: account.name,
    AccountSid: account.sid,
    Protocol: protocol,
    FailureReason: success ? null : 'InvalidUserNameOrPassword',
    IsLocalAdmin: false,
    LogonId: 0x3e7000 + (c.reportId() % 65536),
    RemoteDeviceName: remote.device,
    RemoteIP: remote.ip,
    RemoteIPType: remote.ip ? 'Private' : null,
    RemotePort: remote.port ?? null,
    InitiatingProcessFileName: logonType === 'Network' ? 'System' : 'lsass.exe',
    InitiatingProcessFolderPath: logonType === 'Network' ? null : 'C:\\Windows\\System32\\lsass.exe',
    InitiatingProcessAccountDomain: 'nt authority',
    InitiatingProcessAccountName: 'system',
    InitiatingProcessAccountSid: 'S-1-5-18',
    ReportId: c.reportId(),
  };
}

export interface SigninPlace {
  readonly ip: string;
  readonly country: string;
  readonly city: string;
  readonly state: string;
  readonly lat: number;
  readonly lon: number;
}

/** SigninLogs (interactive). */
export function signinRow(
  c: Ctx,
  rng: Prng,
  at: number,
  user: User,
  device: Device | null,
  app: readonly [string, string],
  place: SigninPlace,
  result: { code: string; description: string; failure?: string },
  risk: { level: string; events: readonly string[]; state: string; userAgent?: string } = {
    level: 'none',
    events: [],
    state: 'none',
  },
): Row {
  const t = c.time(at);
  const ok = result.code === '0';
  return {
    TimeGenerated: t,
    CreatedDateTime: t,
    Id: rng.guid(),
    CorrelationId: rng.guid(),
    OriginalRequestId: rng.guid(),
    UniqueTokenIdentifier: rng.hex(22),
    AADTenantId: TENANT_ID,
    HomeTenantId: TENANT_ID,
    ResourceTenantId: TENANT_ID,
    Category: 'SignInLogs',
    OperationName: 'Sign-in activity',
    OperationVersion: '1.0',
    Level: '4',
    SourceSystem: 'Azure AD',
    Identity: user.displayName,
    UserDisplayName: user.displayName,
    UserPrincipalName: user.upn,
    UserId: user.objectId,
    UserType: 'Member',
    AlternateSignInName: user.upn,
    SignInIdentifier: user.upn,
    AppDisplayName: app[0],
    AppId: app[1],
    ResourceDisplayName:
      app[0] === 'Office 365 Exchange Online' ? 'Office 365 Exchange Online' : 'Windows Azure Service Management API',
    ClientAppUsed: 'Browser',
    UserAgent:
      risk.userAgent ??
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0',
    IPAddress: place.ip,
    AutonomousSystemNumber: place.country === 'US' ? '7922' : String(10000 + rng.int(0, 50000)),
    Location: place.country,
    LocationDetails: {
      city: place.city,
      state: place.state,
      countryOrRegion: place.country,
      geoCoordinates: { latitude: place.lat, longitude: place.lon },
    },
    DeviceDetail: device
      ? {
          deviceId: device.id.slice(0, 32),
          displayName: device.shortName,
          operatingSystem: 'Windows10',
          browser: 'Edge 130.0.0',
          isCompliant: true,
          isManaged: true,
          trustType: 'Azure AD joined',
        }
      : { deviceId: '', operatingSystem: 'Linux', browser: 'Python Requests 2.31' },
    Status: ok
      ? { errorCode: 0 }
      : { errorCode: Number(result.code), failureReason: result.failure ?? result.description },
    ResultType: result.code,
    ResultDescription: result.description,
    ResultSignature: ok ? 'SUCCESS' : 'FAILURE',
    IsInteractive: true,
    IsRisky: risk.level !== 'none',
    RiskLevelDuringSignIn: risk.level,
    RiskLevelAggregated: risk.level,
    RiskState: risk.state,
    RiskDetail: 'none',
    RiskEventTypes: JSON.stringify(risk.events),
    RiskEventTypes_V2: JSON.stringify(risk.events),
    ConditionalAccessStatus: ok ? 'success' : 'notApplied',
    AuthenticationRequirement: 'multiFactorAuthentication',
    AuthenticationProtocol: 'none',
    TokenIssuerType: 'AzureAD',
    TokenIssuerName: '',
    DurationMs: rng.int(40, 900),
    FlaggedForReview: false,
    CrossTenantAccessType: 'none',
    ResourceIdentity: '00000002-0000-0000-c000-000000000000',
  };
}

/** EmailEvents. */
export function emailRow(
  c: Ctx,
  at: number,
  m: {
    id: string;
    from: string;
    fromDomain: string;
    fromName: string;
    senderIp: string;
    to: User;
    subject: string;
    direction: 'Inbound' | 'Intra-org';
    delivery: 'Delivered' | 'Blocked' | 'Junked';
    threatTypes: string;
    urlCount: number;
    attachmentCount: number;
  },
): Row {
  const blocked = m.delivery === 'Blocked';
  return {
    Timestamp: c.time(at),
    NetworkMessageId: m.id,
    InternetMessageId: `<${m.id.replace(/-/g, '').slice(0, 20)}@${m.fromDomain}>`,
    SenderMailFromAddress: m.from,
    SenderFromAddress: m.from,
    SenderDisplayName: m.fromName,
    SenderMailFromDomain: m.fromDomain,
    SenderFromDomain: m.fromDomain,
    SenderIPv4: m.senderIp,
    RecipientEmailAddress: m.to.upn,
    RecipientObjectId: m.to.objectId,
    Subject: m.subject,
    EmailDirection: m.direction,
    DeliveryAction: m.delivery,
    DeliveryLocation: blocked ? 'Quarantine' : m.delivery === 'Junked' ? 'Junk folder' : 'Inbox/folder',
    LatestDeliveryAction: m.delivery,
    LatestDeliveryLocation: blocked ? 'Quarantine' : 'Inbox/folder',
    ThreatTypes: m.threatTypes,
    DetectionMethods: m.threatTypes ? JSON.stringify({ [m.threatTypes]: ['URL detonation reputation'] }) : '',
    ConfidenceLevel: m.threatTypes ? JSON.stringify({ [m.threatTypes]: 'High' }) : '',
    BulkComplaintLevel: m.direction === 'Inbound' ? 1 : 0,
    EmailAction: blocked ? 'Send to quarantine' : '',
    AuthenticationDetails: JSON.stringify({ SPF: 'pass', DKIM: 'pass', DMARC: 'pass', CompAuth: 'pass' }),
    AttachmentCount: m.attachmentCount,
    UrlCount: m.urlCount,
    EmailLanguage: 'en',
    OrgLevelAction: blocked ? 'Quarantine' : '',
    ReportId: `${m.id}-${c.reportId()}`,
  };
}

export function emailUrlRow(c: Ctx, at: number, messageId: string, url: string): Row {
  return {
    Timestamp: c.time(at),
    NetworkMessageId: messageId,
    Url: url,
    UrlDomain: new URL(url).hostname,
    UrlLocation: 'Body',
    ReportId: `${messageId}-${c.reportId()}`,
  };
}

export function urlClickRow(c: Ctx, at: number, user: User, url: string, messageId: string, ip: string): Row {
  return {
    Timestamp: c.time(at),
    Url: url,
    ActionType: 'ClickAllowed',
    AccountUpn: user.upn,
    Workload: 'Email',
    NetworkMessageId: messageId,
    ThreatTypes: '',
    DetectionMethods: '',
    IPAddress: ip,
    IsClickedThrough: true,
    UrlChain: JSON.stringify([url]),
    ReportId: `${messageId}-${c.reportId()}`,
  };
}

const EVENT_ACTIVITY: Readonly<Record<number, string>> = {
  4624: '4624 - An account was successfully logged on.',
  4625: '4625 - An account failed to log on.',
  4688: '4688 - A new process has been created.',
};

const LOGON_TYPE_NAME: Readonly<Record<number, string>> = {
  2: '2 - Interactive',
  3: '3 - Network',
  5: '5 - Service',
  10: '10 - RemoteInteractive',
};

/** SecurityEvent (Windows security log of a server, collected by the agent). */
export function securityEventRow(c: Ctx, at: number, dev: Device, eventId: number, fields: Row): Row {
  return {
    TimeGenerated: c.time(at),
    Computer: `${dev.shortName}.contoso.local`,
    EventID: eventId,
    Activity: EVENT_ACTIVITY[eventId] ?? String(eventId),
    Channel: 'Security',
    EventSourceName: 'Microsoft-Windows-Security-Auditing',
    Level: eventId === 4625 ? '16' : '8',
    EventLevelName: eventId === 4625 ? 'Failure Audit' : 'Success Audit',
    Keywords: eventId === 4625 ? '0x8010000000000000' : '0x8020000000000000',
    Task: eventId === 4688 ? 13312 : 12544,
    SourceSystem: 'OpsManager',
    ManagementGroupName: `AOI-${TENANT_ID}`,
    SourceComputerId: dev.id.slice(0, 8) + dev.id.slice(8, 32),
    EventRecordId: String(c.reportId()),
    ...fields,
  };
}

export function logonEventFields(
  account: Account,
  logonType: number,
  source: { ip: string; workstation: string },
  success: boolean,
  auth: 'Kerberos' | 'NTLM' = 'Kerberos',
): Row {
  return {
    Account: `${NT_DOMAIN}\\${account.name}`,
    AccountType: 'User',
    TargetAccount: `${NT_DOMAIN}\\${account.name}`,
    TargetUserName: account.name,
    TargetDomainName: NT_DOMAIN,
    TargetUserSid: account.sid,
    SubjectUserName: '-',
    SubjectDomainName: '-',
    SubjectUserSid: 'S-1-0-0',
    SubjectLogonId: '0x0',
    LogonType: logonType,
    LogonTypeName: LOGON_TYPE_NAME[logonType] ?? String(logonType),
    LogonProcessName: auth === 'NTLM' ? 'NtLmSsp ' : 'Kerberos',
    AuthenticationPackageName: auth,
    LmPackageName: auth === 'NTLM' ? 'NTLM V2' : '-',
    IpAddress: source.ip,
    IpPort: '0',
    WorkstationName: source.workstation,
    ...(success
      ? { ElevatedToken: '%%1843' }
      : { Status: '0xc000006d', SubStatus: '0xc000006a', FailureReason: '%%2313' }),
  };
}

export function processEventFields(account: Account, exe: Executable, commandLine: string, parent: Executable): Row {
  return {
    Account: `${NT_DOMAIN}\\${account.name}`,
    AccountType: account === SYSTEM ? 'Machine' : 'User',
    SubjectUserName: account.name,
    SubjectDomainName: account === SYSTEM ? 'NT AUTHORITY' : NT_DOMAIN,
    SubjectUserSid: account.sid,
    SubjectLogonId: '0x3e7',
    NewProcessName: exe.folderPath,
    NewProcessId: `0x${(exe.size % 65536).toString(16)}`,
    CommandLine: commandLine,
    ParentProcessName: parent.folderPath,
    Process: exe.fileName,
    TokenElevationType: '%%1936',
    MandatoryLabel: 'S-1-16-12288',
  };
}

/** CommonSecurityLog: a Palo Alto Networks PAN-OS TRAFFIC record. */
export function firewallRow(
  c: Ctx,
  at: number,
  rng: Prng,
  t: {
    src: string;
    srcPort: number;
    dst: string;
    dstPort: number;
    action: 'allow' | 'deny';
    user: string | null;
    url?: string;
    app?: string;
    outbound: boolean;
  },
): Row {
  const time = c.time(at);
  return {
    TimeGenerated: time,
    ReceiptTime: time,
    DeviceVendor: 'Palo Alto Networks',
    DeviceProduct: 'PAN-OS',
    DeviceVersion: '10.2.4',
    DeviceEventClassID: t.action === 'allow' ? 'end' : 'deny',
    Activity: 'TRAFFIC',
    LogSeverity: '1',
    DeviceAction: t.action,
    SimplifiedDeviceAction: t.action === 'allow' ? 'Allow' : 'Deny',
    ApplicationProtocol: t.app ?? (t.dstPort === 443 ? 'ssl' : 'incomplete'),
    Protocol: 'TCP',
    SourceIP: t.src,
    SourcePort: t.srcPort,
    DestinationIP: t.dst,
    DestinationPort: t.dstPort,
    SourceTranslatedAddress: t.outbound ? '203.0.113.10' : null,
    SourceUserName: t.user,
    RequestURL: t.url ?? null,
    CommunicationDirection: t.outbound ? 'Outbound' : 'Inbound',
    DeviceInboundInterface: t.outbound ? 'ethernet1/2' : 'ethernet1/1',
    DeviceOutboundInterface: t.outbound ? 'ethernet1/1' : 'ethernet1/2',
    DeviceName: 'fw-edge-01',
    Computer: 'fw-edge-01',
    DeviceCustomString1: t.outbound ? 'allow-outbound-web' : 'deny-inbound-default',
    DeviceCustomString1Label: 'Rule',
    DeviceCustomString4: t.outbound ? 'trust' : 'untrust',
    DeviceCustomString4Label: 'FromZone',
    DeviceCustomString5: t.outbound ? 'untrust' : 'trust',
    DeviceCustomString5Label: 'ToZone',
    SentBytes: t.action === 'allow' ? rng.int(400, 90_000) : 0,
    ReceivedBytes: t.action === 'allow' ? rng.int(800, 2_000_000) : 0,
    EventCount: 1,
    SourceSystem: 'OpsManager',
    CollectorHostName: 'syslog-01',
  };
}
