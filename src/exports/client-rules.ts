// Export client rules, in the spirit of exports(5): which clients may use an export, read-write
// or read-only, and how their identities are squashed. Layer: exports (shared by MOUNT and
// NFS; knows no RPC). Parsed from text such as `127.0.0.0/8(rw,no_root_squash) *(ro)`; the
// first rule that matches a client applies.

import net from 'node:net';

export const ANONYMOUS_ID_DEFAULT = 65534;
/** Who may mount when nothing is said: everyone, read-write, root squashed. */
export const CLIENTS_DEFAULT = '*(rw,root_squash)';
export const CLIENT_RULES_MAX = 256;

export type ClientMatch =
  | { readonly kind: 'any' }
  | { readonly kind: 'network'; readonly family: 4 | 6; readonly network: bigint; readonly prefixBits: number };

export interface ClientRule {
  /** As written, for messages and EXPORT replies. */
  readonly spec: string;
  readonly match: ClientMatch;
  readonly access: 'rw' | 'ro';
  /** root_squash (the default), all_squash or no_root_squash. */
  readonly squash: 'root' | 'all' | 'none';
  readonly anonUid: number;
  readonly anonGid: number;
}

export class ExportRuleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExportRuleError';
  }
}

/** Parses whitespace-separated `client(options)` rules; `client` alone takes the defaults. */
export function parseClientRules(text: string): ClientRule[] {
  const specs = text.trim().split(/\s+/).filter((part) => part.length > 0);
  if (specs.length === 0) throw new ExportRuleError('no client rule given');
  if (specs.length > CLIENT_RULES_MAX) throw new ExportRuleError(`more than ${CLIENT_RULES_MAX} client rules`);
  return specs.map(parseClientRule);
}

export function parseClientRule(spec: string): ClientRule {
  const found = /^([^()]+)(?:\(([^()]*)\))?$/.exec(spec);
  if (found === null) throw new ExportRuleError(`client rule "${spec}": expected CLIENT or CLIENT(options)`);
  const match = parseClientMatch(found[1]!, spec);
  // exports(5): read-only unless the rule says rw.
  let access: 'rw' | 'ro' = 'ro';
  let squash: 'root' | 'all' | 'none' = 'root';
  let anonUid = ANONYMOUS_ID_DEFAULT;
  let anonGid = ANONYMOUS_ID_DEFAULT;
  for (const option of (found[2] ?? '').split(',').filter((o) => o.length > 0)) {
    // Split at the first '=' only: "anonuid=1=2" is a typo, not anonuid=1.
    const equals = option.indexOf('=');
    const name = equals < 0 ? option : option.slice(0, equals);
    const value = equals < 0 ? undefined : option.slice(equals + 1);
    if (value !== undefined && name !== 'anonuid' && name !== 'anongid') throw unknownOption(option, spec);
    switch (name) {
      case 'rw':
      case 'ro':
        access = name;
        break;
      case 'root_squash':
        squash = 'root';
        break;
      case 'no_root_squash':
        squash = 'none';
        break;
      case 'all_squash':
        squash = 'all';
        break;
      case 'anonuid':
        anonUid = parseId(value, option, spec);
        break;
      case 'anongid':
        anonGid = parseId(value, option, spec);
        break;
      default:
        throw unknownOption(option, spec);
    }
  }
  return { spec, match, access, squash, anonUid, anonGid };
}

function unknownOption(option: string, spec: string): ExportRuleError {
  return new ExportRuleError(
    `client rule "${spec}": unknown option "${option}" (known: rw, ro, root_squash, no_root_squash, all_squash, anonuid=N, anongid=N)`,
  );
}

function parseId(value: string | undefined, option: string, spec: string): number {
  if (value === undefined || !/^\d+$/.test(value) || Number(value) > 0xffff_ffff) {
    throw new ExportRuleError(`client rule "${spec}": "${option}" needs a number from 0 to 4294967295`);
  }
  return Number(value);
}

function parseClientMatch(client: string, spec: string): ClientMatch {
  if (client === '*') return { kind: 'any' };
  // Split at the first '/' only: "10.0.0.0/8/16" is a typo, not 10.0.0.0/8.
  const slash = client.indexOf('/');
  const address = slash < 0 ? client : client.slice(0, slash);
  const prefix = slash < 0 ? undefined : client.slice(slash + 1);
  const family = net.isIP(address);
  if (family !== 4 && family !== 6) {
    throw new ExportRuleError(`client rule "${spec}": "${client}" is not *, an IP address or a CIDR network`);
  }
  const width = family === 4 ? 32 : 128;
  const prefixBits = prefix === undefined ? width : Number(prefix);
  if (prefix !== undefined && (!/^\d+$/.test(prefix) || prefixBits > width)) {
    throw new ExportRuleError(`client rule "${spec}": prefix "/${prefix}" must be 0 to ${width}`);
  }
  return { kind: 'network', family, network: maskAddress(addressBits(address, family), width, prefixBits), prefixBits };
}

function addressBits(address: string, family: 4 | 6): bigint {
  if (family === 4) return address.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
  const [head, tail] = address.includes('::') ? (address.split('::', 2) as [string, string]) : [address, undefined];
  const headParts = head.length > 0 ? head.split(':') : [];
  const tailParts = tail !== undefined && tail.length > 0 ? tail.split(':') : [];
  const expand = (parts: string[]) => parts.flatMap((p) => (p.includes('.') ? v4InV6(p) : [p]));
  const h = expand(headParts);
  const t = expand(tailParts);
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((acc, group) => (acc << 16n) | BigInt(parseInt(group, 16)), 0n);
}

function v4InV6(dotted: string): string[] {
  const value = addressBits(dotted, 4);
  return [(value >> 16n).toString(16), (value & 0xffffn).toString(16)];
}

function maskAddress(value: bigint, width: number, prefixBits: number): bigint {
  const hostBits = BigInt(width - prefixBits);
  return (value >> hostBits) << hostBits;
}

/** The first rule that admits `address` (IPv4-mapped IPv6 addresses count as IPv4). */
export function matchClient(rules: readonly ClientRule[], address: string): ClientRule | undefined {
  const plain = address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
  const family = net.isIP(plain);
  if (family !== 4 && family !== 6) return undefined;
  const width = family === 4 ? 32 : 128;
  const bits = addressBits(plain, family);
  return rules.find(
    (rule) =>
      rule.match.kind === 'any' ||
      (rule.match.family === family && maskAddress(bits, width, rule.match.prefixBits) === rule.match.network),
  );
}
