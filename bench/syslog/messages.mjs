// Message generators shared by the syslog benchmark and its sender process: realistic lines, varied per index
// so that no two consecutive messages are identical.

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n, w = 2) => String(n).padStart(w, '0');
const bsd = (i) =>
  `${MONTHS[i % 12]} ${String((i % 28) + 1).padStart(2, ' ')} ${pad(i % 24)}:${pad(i % 60)}:${pad((i * 7) % 60)}`;
const ip = (i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

export const KINDS = {
  // sshd / sudo style BSD lines (~110 bytes).
  rfc3164: (i) =>
    i % 2 === 0
      ? `<38>${bsd(i)} web-${i % 50} sshd[${1000 + (i % 30000)}]: Accepted publickey for admin from ${ip(i)} port ${1024 + (i % 60000)} ssh2`
      : `<86>${bsd(i)} squid-uk-${i % 9} sudo: pam_unix(sudo:session): session opened for user root by (uid=0)`,
  // RFC 5424 with structured data (~200 bytes).
  rfc5424: (i) =>
    `<165>1 2024-05-${pad((i % 28) + 1)}T${pad(i % 24)}:${pad(i % 60)}:${pad((i * 7) % 60)}.${pad(i % 1000, 3)}Z ` +
    `host${i % 100}.example.com evntslog ${i % 65536} ID47 [exampleSDID@32473 iut="3" eventSource="Application" ` +
    `eventID="${1000 + (i % 100)}"] An application event log entry number ${i}`,
  // A short firewall CEF event in BSD syslog (~260 bytes).
  cef: (i) =>
    `<134>${bsd(i)} fw${i % 10} CEF:0|Palo Alto Networks|PAN-OS|10.2.0|end|TRAFFIC|3|rt=${1700000000000 + i} ` +
    `src=${ip(i)} dst=${ip(i * 31)} spt=${1024 + (i % 60000)} dpt=443 proto=TCP act=allow app=ssl ` +
    `cs1Label=Rule cs1=allow-web suser=CORP\\\\user${i % 500} cnt=1 in=${i % 100000} out=${(i * 3) % 100000}`,
  // The long real Check Point line shape (~900 bytes, 40 keys, escapes, many unknown keys).
  cefLong: (i) =>
    `<134>${bsd(i)} gw${i % 5} CEF:0|Check Point|VPN-1 & FireWall-1|Check Point|Log|https|Unknown|act=Accept ` +
    `destinationTranslatedAddress=0.0.0.0 destinationTranslatedPort=0 deviceDirection=${i % 2} rt=${1543270652000 + i} ` +
    `sourceTranslatedAddress=192.168.103.254 sourceTranslatedPort=${i % 65536} spt=${1024 + (i % 60000)} dpt=443 ` +
    `cs2Label=Rule Name layer_name=Network layer_uuid=b406b732-2437-4848-9741-6eae1f5bf112 match_id=${i % 100} ` +
    `parent_rule=0 rule_action=Accept rule_uid=9e5e6e74-aa9a-4693-b9fe-53712dd27bea ifname=eth0 logid=0 ` +
    `loguid={0x5bfc70fc,0x1,0xfe65a8c0,0xc0000001} origin=192.168.101.254 originsicname=CN\\=R80,O\\=R80_M..6u6bdo ` +
    `sequencenum=${i} version=5 dst=${ip(i * 7)} inzone=Internal nat_addtnl_rulenum=1 nat_rulenum=4 outzone=External ` +
    `product=VPN-1 & FireWall-1 proto=6 service_id=https src=${ip(i)}`,
};
