/**
 * "Hunt" links: a KQL query pre-filled for an entity, an alert or an incident, opened on the hunting page. The
 * queries read the Defender and Sentinel tables of the workspace schema; values are quoted as KQL string literals.
 */
import type { IncidentAlertSummary, IncidentEntity } from '../api/types.js';

/** A KQL string literal (double quotes, backslash escapes). */
export function kqlString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

function field(e: IncidentEntity, ...names: string[]): string | null {
  for (const n of names) {
    const v = e.fields[n];
    if (typeof v === 'string' && v) return v;
  }
  return null;
}

export function entityHuntQuery(e: IncidentEntity, lookback = '7d'): string {
  const type = e.type.toLowerCase();
  if (type === 'host') {
    const name = field(e, 'HostName', 'hostName', 'FQDN', 'DnsDomain') ?? e.displayName;
    return `DeviceProcessEvents
| where Timestamp > ago(${lookback})
| where DeviceName startswith ${kqlString(name.toLowerCase().split('.')[0] ?? name)}
| project Timestamp, DeviceName, AccountName, FileName, ProcessCommandLine, InitiatingProcessFileName
| order by Timestamp desc
| take 500`;
  }
  if (type === 'account') {
    const upn = field(e, 'UPNSuffix') ? `${field(e, 'Name') ?? ''}@${field(e, 'UPNSuffix')}` : null;
    const name = field(e, 'AadUserId') ?? upn ?? field(e, 'Name') ?? e.displayName;
    return `SigninLogs
| where TimeGenerated > ago(${lookback})
| where UserPrincipalName =~ ${kqlString(upn ?? name)} or UserId == ${kqlString(name)}
| summarize Signins = count(), Failures = countif(ResultType != "0"), Countries = make_set(Location) by bin(TimeGenerated, 1h)
| render timechart`;
  }
  if (type === 'ip') {
    const ip = field(e, 'Address') ?? e.displayName;
    return `union DeviceNetworkEvents, SigninLogs
| where TimeGenerated > ago(${lookback}) or Timestamp > ago(${lookback})
| where RemoteIP == ${kqlString(ip)} or IPAddress == ${kqlString(ip)}
| summarize Events = count() by Type, bin(coalesce(Timestamp, TimeGenerated), 1h)`;
  }
  if (type === 'url' || type === 'dns') {
    const url = field(e, 'Url', 'DomainName') ?? e.displayName;
    return `union UrlClickEvents, DeviceNetworkEvents
| where Timestamp > ago(${lookback})
| where Url has ${kqlString(url)} or RemoteUrl has ${kqlString(url)}
| take 500`;
  }
  if (type === 'file' || type === 'filehash') {
    const hash = field(e, 'Value', 'SHA256', 'SHA1');
    const name = field(e, 'Name') ?? e.displayName;
    return `DeviceFileEvents
| where Timestamp > ago(${lookback})
| where ${hash ? `SHA256 == ${kqlString(hash)} or SHA1 == ${kqlString(hash)}` : `FileName =~ ${kqlString(name)}`}
| take 500`;
  }
  if (type === 'mailbox' || type === 'mail-message' || type === 'mailmessage') {
    const who = field(e, 'MailboxPrimaryAddress', 'Recipient', 'Sender') ?? e.displayName;
    return `EmailEvents
| where Timestamp > ago(${lookback})
| where RecipientEmailAddress =~ ${kqlString(who)} or SenderFromAddress =~ ${kqlString(who)}
| take 500`;
  }
  return `search ${kqlString(e.displayName)}
| where TimeGenerated > ago(${lookback})
| take 200`;
}

export function alertHuntQuery(a: IncidentAlertSummary): string {
  return `SecurityAlert
| where SystemAlertId == ${kqlString(a.alertId)}
| project TimeGenerated, AlertName, AlertSeverity, ProductName, Tactics, Techniques, Entities, ExtendedProperties`;
}

export function incidentHuntQuery(number: number): string {
  return `SecurityIncident
| where IncidentNumber == ${number}
| summarize arg_max(TimeGenerated, *) by IncidentNumber
| mv-expand AlertId = AlertIds to typeof(string)
| join kind=inner (SecurityAlert | summarize arg_max(TimeGenerated, *) by SystemAlertId) on $left.AlertId == $right.SystemAlertId
| project AlertTime = TimeGenerated1, AlertName, AlertSeverity, ProductName, Entities`;
}

/** The hunting page URL for a query. */
export function huntUrl(query: string): string {
  return `/hunting?q=${encodeURIComponent(query)}`;
}
