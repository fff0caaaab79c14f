// The cluster configuration: one YAML file that both nodes of a pair read, naming the cluster
// and its shared secret, the nodes with their interconnect and admin endpoints, the filers with
// their addresses and volumes, the timing of failure detection and takeover, and the address
// backend (DESIGN.md "Interfaces that tests and operators rely on"; docs/design/takeover.md
// "Pieces"). Layer: cluster. Parsing is strict: an unknown key, a wrong type, a value out of
// range or a dangling reference is refused at start with a ConfigError naming the key path, so
// a typo never falls back silently to a default on one node of a pair and not on the other.

import fs from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { CLIENTS_DEFAULT, ExportRuleError, parseClientRules, type ClientRule } from '../exports/client-rules.js';
import { normalizeExportPath } from '../exports/export-table.js';
import { MNTPATHLEN } from '../mount/program.js';
import { LOG_LEVELS, type LogLevel } from '../platform/logger.js';
import { LEASE_DRIFT_RATIO_DEFAULT, LEASE_MARGIN_MS_DEFAULT, LEASE_MS_DEFAULT, LEASE_MS_MAX } from './lease.js';

/** A configuration file larger than this is refused before it is read. */
export const CONFIG_FILE_BYTES_MAX = 1_048_576;
/** YAML aliases expanded at most (a guard against alias bombs). */
export const CONFIG_ALIASES_MAX = 100;
/** Cluster, node and filer names: also folder names in the mailbox and words in commands. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
export const NODES_MIN = 2;
export const NODES_MAX = 16;
export const FILERS_MAX = 64;
export const ADDRESSES_PER_FILER_MAX = 16;
export const VOLUMES_PER_FILER_MAX = 64;
/** The shared secret keys the interconnect and admin authentication: at least 256 bits. */
export const SECRET_BYTES_MIN = 32;
export const SECRET_BYTES_MAX = 4096;
export const FILER_PORT_DEFAULT = 20490;
export { CLIENTS_DEFAULT };
export const HEARTBEAT_INTERVAL_MS_DEFAULT = 100;
export const HEARTBEAT_INTERVAL_MS_MAX = 10_000;
export const PEER_TIMEOUT_MS_DEFAULT = 1_000;
export const PEER_TIMEOUT_MS_MAX = 300_000;
/** A peer counts as down only after missing at least this many heartbeats in a row. */
export const HEARTBEATS_PER_PEER_TIMEOUT_MIN = 3;
export const DRAIN_DEADLINE_MS_DEFAULT = 2_000;
export const DRAIN_DEADLINE_MS_MAX = 300_000;
export const OPERATION_DEADLINE_MS_DEFAULT = 10_000;
export const OPERATION_DEADLINE_MS_MAX = 3_600_000;
/** The shortest lease accepted; the defaults and the longest are the lease's own (lease.ts). */
export const LEASE_MS_MIN = 100;
/** fencing.md, "Defaults, and why": calls admitted before a lapse may run this long. */
export const STOP_GRACE_MS_DEFAULT = 200;
export const AUTO_GIVEBACK_DELAY_MS_DEFAULT = 30_000;
export const AUTO_GIVEBACK_ATTEMPTS_DEFAULT = 3;
export const AUTO_GIVEBACK_WINDOW_MS_DEFAULT = 3_600_000;
export const HEALTH_INTERVAL_MS_DEFAULT = 5_000;
export const HEALTH_TIMEOUT_MS_DEFAULT = 5_000;
export const HEALTH_FAILURES_DEFAULT = 3;
export const ADDRESS_CHECK_MS_DEFAULT = 25;
export const ADDRESS_CHECK_MS_MIN = 10;
export const ADDRESS_CHECK_MS_MAX = 10_000;
/** A Linux interface name: at most 15 bytes (IFNAMSIZ less its NUL), no "/", ":" or blanks. */
export const INTERFACE_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/;
export const ADDRESS_BACKENDS = ['loopback', 'linux'] as const;
export const ADDRESS_BACKEND_DEFAULT: AddressBackendName = 'loopback';
export const LOG_LEVEL_DEFAULT: LogLevel = 'info';
const PORT_MAX = 65535;

export type AddressBackendName = (typeof ADDRESS_BACKENDS)[number];

/** A TCP endpoint: an IP address (IPv6 in canonical form, without brackets) and a port. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface NodeConfig {
  readonly name: string;
  /** Where this node listens for its partner, and where the partner dials it. */
  readonly interconnect: Endpoint;
  /** The admin API (status, takeover, giveback). */
  readonly admin: Endpoint;
  /** The node that takes over this node's filers; partners are mutual. */
  readonly partner: string;
  /** Where this node reaches the shared mailbox, when its mount point differs from cluster.mailbox. */
  readonly mailbox: string | undefined;
  /** The network interface that carries the filers' addresses on this node (`linux` backend). */
  readonly interface: string | undefined;
}

/** A filer address with the prefix length it gets on an interface (`linux` backend). */
export interface ServiceAddress {
  readonly address: string;
  readonly prefixLength: number;
}

/** One volume of a filer; assignable to the server's ExportConfig. */
export interface VolumeConfig {
  /** The volume's directory, absolute. */
  readonly directory: string;
  /** The `export` key, normalized; absent means "/<volume name>", known once the volume is open. */
  readonly path?: string;
  /** The `clients` key as written (or the default). */
  readonly clients: string;
  readonly rules: readonly ClientRule[];
}

/**
 * Where clients mount a volume without opening it: its `export` key, or "/" and the volume's
 * folder name, which is the volume's name unless it was created with another (`tandem volume
 * create --name`); the server itself uses the name stored in the volume.
 */
export function exportPathOf(volume: VolumeConfig): string {
  return volume.path ?? `/${path.basename(volume.directory)}`;
}

export interface FilerConfig {
  readonly name: string;
  /** The node that serves this filer when nothing has been taken over. */
  readonly home: string;
  /** Service addresses (IPv6 in canonical form); they move with the filer. */
  readonly addresses: readonly string[];
  /** The same addresses with their prefix lengths (written `198.18.0.11/24`; /32 or /128 if not). */
  readonly serviceAddresses: readonly ServiceAddress[];
  /** The portmapper, MOUNT and NFS port on each address. */
  readonly port: number;
  readonly volumes: readonly VolumeConfig[];
}

export interface TimingConfig {
  readonly heartbeatIntervalMs: number;
  /** Silence on the interconnect after which the peer counts as down. */
  readonly peerTimeoutMs: number;
  /** How long a releasing node lets calls in progress finish. */
  readonly drainDeadlineMs: number;
  /** How long a takeover or giveback may take before it is resolved from the mailbox. */
  readonly operationDeadlineMs: number;
  /** A node serves a filer only this long after the start of its last lease renewal (fencing.md). */
  readonly leaseMs: number;
  readonly leaseRenewMs: number;
  /** What the partner waits beyond leaseMs × (1 + ρ) before claiming an unrenewed lease. */
  readonly leaseMarginMs: number;
  /** How long calls admitted before a lease lapsed may run before the node exits (self-fence). */
  readonly stopGraceMs: number;
  /** How long the `linux` backend waits for another host to answer for an address before adding it. */
  readonly addressCheckMs: number;
}

/** Automatic giveback (off unless `autoGiveback.enabled`), with its ping-pong guard. */
export interface AutoGivebackSettings {
  readonly enabled: boolean;
  readonly delayMs: number;
  readonly attemptsMax: number;
  readonly windowMs: number;
}

/** A command run every intervalMs; `failures` failures in a row ask the partner to take over. */
export interface HealthCheckConfig {
  readonly command: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly failures: number;
}

export interface ClusterConfig {
  readonly name: string;
  readonly secret: Buffer;
  /** The secret's file, absolute, when the secret was not given inline. */
  readonly secretFile: string | undefined;
  /** The mailbox directory, absolute. */
  readonly mailbox: string;
  readonly nodes: readonly NodeConfig[];
  readonly filers: readonly FilerConfig[];
  readonly timing: TimingConfig;
  readonly autoGiveback: AutoGivebackSettings;
  readonly health: HealthCheckConfig | undefined;
  readonly addressBackend: AddressBackendName;
  readonly log: { readonly level: LogLevel };
  /** Problems that do not stop a node, such as a secret file others can read. */
  readonly warnings: readonly string[];
  /** The folder relative paths were resolved against. */
  readonly baseDirectory: string;
  nodeNamed(name: string): NodeConfig | undefined;
  filerNamed(name: string): FilerConfig | undefined;
  /** The filers whose home is `node` (none for an unknown node). */
  filersHomedAt(node: string): readonly FilerConfig[];
  /** The partner of `node`; a ConfigError when no node has that name. */
  partnerOf(node: string): NodeConfig;
}

/** A configuration refused: `key` is the path of the offending key (`nodes[1].partner`). */
export class ConfigError extends Error {
  readonly key: string;
  readonly problem: string;
  readonly file: string | undefined;

  constructor(key: string, problem: string, file?: string) {
    const where = key === '' ? problem : `${key}: ${problem}`;
    super(file === undefined ? where : `${file}: ${where}`);
    this.name = 'ConfigError';
    this.key = key;
    this.problem = problem;
    this.file = file;
  }
}

/** Reads and validates the configuration in `file`; relative paths resolve against its folder. */
export async function loadConfig(file: string): Promise<ClusterConfig> {
  const absolute = path.resolve(file);
  let text: string;
  try {
    const info = await stat(absolute);
    if (!info.isFile()) throw new ConfigError('', 'is not a regular file', absolute);
    if (info.size > CONFIG_FILE_BYTES_MAX) throw new ConfigError('', `is larger than ${CONFIG_FILE_BYTES_MAX} bytes`, absolute);
    text = await readFile(absolute, 'utf8');
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError('', `cannot read it: ${errorText(error)}`, absolute);
  }
  try {
    return parseConfig(text, path.dirname(absolute));
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(error.key, error.problem, absolute);
    throw error;
  }
}

/** Validates the YAML `text`; relative paths resolve against `baseDirectory`. Reads a secretFile. */
export function parseConfig(text: string, baseDirectory: string): ClusterConfig {
  const base = path.resolve(baseDirectory);
  const root = Section.of(parseYaml(text), '', ['cluster', 'nodes', 'filers', 'timing', 'autoGiveback', 'health', 'addressBackend', 'log']);
  const warnings: string[] = [];
  const cluster = parseCluster(root.section('cluster', ['name', 'secret', 'secretFile', 'mailbox']), base, warnings);
  const addressBackend = root.optionalChoice('addressBackend', ADDRESS_BACKENDS) ?? ADDRESS_BACKEND_DEFAULT;
  const listeners = new Listeners();
  const nodes = parseNodes(root, listeners, base, addressBackend);
  const filers = parseFilers(root, base, nodes, addressBackend, listeners, cluster.mailbox);
  const timing = parseTiming(root.optionalSection('timing', TIMING_KEYS));
  const autoGiveback = parseAutoGiveback(root.optionalSection('autoGiveback', ['enabled', 'delayMs', 'attemptsMax', 'windowMs']));
  const health = parseHealth(root.optionalSection('health', ['command', 'intervalMs', 'timeoutMs', 'failures']));
  const log = root.optionalSection('log', ['level']);
  const level = log?.optionalChoice('level', LOG_LEVELS) ?? LOG_LEVEL_DEFAULT;
  return assemble({ ...cluster, nodes, filers, timing, autoGiveback, health, addressBackend, log: Object.freeze({ level }), warnings, baseDirectory: base });
}

type ConfigData = Omit<ClusterConfig, 'nodeNamed' | 'filerNamed' | 'filersHomedAt' | 'partnerOf'>;

function assemble(data: ConfigData): ClusterConfig {
  const nodes = new Map(data.nodes.map((node) => [node.name, node]));
  const filers = new Map(data.filers.map((filer) => [filer.name, filer]));
  return Object.freeze({
    ...data,
    warnings: Object.freeze([...data.warnings]),
    nodeNamed: (name: string) => nodes.get(name),
    filerNamed: (name: string) => filers.get(name),
    filersHomedAt: (node: string) => Object.freeze(data.filers.filter((filer) => filer.home === node)),
    partnerOf: (node: string): NodeConfig => {
      const partner = nodes.get(nodes.get(node)?.partner ?? '');
      if (partner === undefined) throw new ConfigError('nodes', `no node named ${JSON.stringify(node)}`);
      return partner;
    },
  });
}

function parseYaml(text: string): unknown {
  const document = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  const first = document.errors[0];
  if (first !== undefined) throw new ConfigError('', `not valid YAML: ${(first.message.split('\n')[0] ?? '').replace(/:$/, '')}`);
  try {
    return document.toJS({ maxAliasCount: CONFIG_ALIASES_MAX }) as unknown;
  } catch (error) {
    throw new ConfigError('', `not valid YAML: ${errorText(error)}`);
  }
}

// ---- cluster -------------------------------------------------------------------------------

function parseCluster(section: Section, base: string, warnings: string[]) {
  const name = section.name('name');
  const mailbox = section.filePath('mailbox', base);
  const inline = section.optionalString('secret');
  const file = section.optionalString('secretFile');
  if (inline !== undefined && file !== undefined) {
    throw new ConfigError(section.key('secretFile'), `give either ${section.key('secret')} or ${section.key('secretFile')}, not both`);
  }
  if (inline !== undefined) {
    return { name, mailbox, secret: checkSecret(Buffer.from(inline, 'utf8'), section.key('secret')), secretFile: undefined };
  }
  if (file === undefined) {
    throw new ConfigError(section.key('secret'), `missing: give ${section.key('secret')} (inline) or ${section.key('secretFile')} (a path)`);
  }
  const secretFile = section.filePath('secretFile', base);
  return { name, mailbox, secret: readSecretFile(secretFile, section.key('secretFile'), warnings), secretFile };
}

function readSecretFile(file: string, key: string, warnings: string[]): Buffer {
  let contents: Buffer;
  try {
    const info = fs.statSync(file);
    if (!info.isFile()) throw new ConfigError(key, `${file} is not a regular file`);
    if (info.size > SECRET_BYTES_MAX + 2) throw new ConfigError(key, `${file} is larger than ${SECRET_BYTES_MAX} bytes`);
    contents = fs.readFileSync(file);
    // The owner alone should be able to read (or replace) the key to the cluster.
    if ((info.mode & 0o077) !== 0) {
      warnings.push(`${key}: ${file} is accessible to group or others (mode ${(info.mode & 0o777).toString(8).padStart(4, '0')}); chmod 600 it`);
    }
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(key, `cannot read ${file}: ${errorText(error)}`);
  }
  // The secret is the file's bytes less a trailing newline, which editors add.
  const end = contents.at(-1) === 0x0a ? (contents.at(-2) === 0x0d ? contents.length - 2 : contents.length - 1) : contents.length;
  return checkSecret(Buffer.from(contents.subarray(0, end)), key);
}

function checkSecret(secret: Buffer, key: string): Buffer {
  if (secret.length < SECRET_BYTES_MIN) throw new ConfigError(key, `the secret has ${secret.length} bytes; it needs at least ${SECRET_BYTES_MIN}`);
  if (secret.length > SECRET_BYTES_MAX) throw new ConfigError(key, `the secret has ${secret.length} bytes; at most ${SECRET_BYTES_MAX}`);
  return secret;
}

// ---- nodes ---------------------------------------------------------------------------------

function parseNodes(root: Section, listeners: Listeners, base: string, backend: AddressBackendName): readonly NodeConfig[] {
  const sections = root.list('nodes', NODES_MIN, NODES_MAX).map((item, index) =>
    Section.of(item, `${root.key('nodes')}[${index}]`, ['name', 'interconnect', 'admin', 'partner', 'mailbox', 'interface']),
  );
  const nodes = sections.map((section) => {
    const name = section.name('name');
    const interconnect = section.endpoint('interconnect');
    listeners.claim(interconnect, section.key('interconnect'));
    const admin = section.endpoint('admin');
    listeners.claim(admin, section.key('admin'));
    const mailbox = section.optionalString('mailbox') === undefined ? undefined : section.filePath('mailbox', base);
    return Object.freeze({ name, interconnect, admin, partner: section.string('partner'), mailbox, interface: parseInterface(section, backend) });
  });
  checkUnique(nodes.map((node, index) => [node.name, sections[index]!.key('name')]), 'node name');
  const byName = new Map(nodes.map((node) => [node.name, node]));
  nodes.forEach((node, index) => {
    const key = sections[index]!.key('partner');
    const partner = byName.get(node.partner);
    if (partner === undefined) throw new ConfigError(key, `no node named ${JSON.stringify(node.partner)}`);
    if (partner === node) throw new ConfigError(key, `node ${JSON.stringify(node.name)} cannot be its own partner`);
    if (partner.partner !== node.name) {
      throw new ConfigError(key, `partners are mutual, but node ${JSON.stringify(partner.name)} names ${JSON.stringify(partner.partner)} as its partner, not ${JSON.stringify(node.name)}`);
    }
  });
  return Object.freeze(nodes);
}

/** The node's `interface`: required by the `linux` backend, meaningless to `loopback`. */
function parseInterface(section: Section, backend: AddressBackendName): string | undefined {
  const name = section.optionalString('interface');
  const key = section.key('interface');
  if (backend === 'linux' && name === undefined) throw new ConfigError(key, 'missing: addressBackend "linux" adds the filers\' addresses to this interface');
  if (backend === 'loopback' && name !== undefined) throw new ConfigError(key, 'only addressBackend "linux" uses an interface; "loopback" serves on 127.0.0.0/8 as it is');
  if (name !== undefined && (!INTERFACE_NAME_PATTERN.test(name) || name === '.' || name === '..')) {
    throw new ConfigError(key, `${JSON.stringify(name)} is not a Linux interface name (at most 15 letters, digits, "_", "." or "-")`);
  }
  return name;
}

// ---- filers --------------------------------------------------------------------------------

function parseFilers(
  root: Section,
  base: string,
  nodes: readonly NodeConfig[],
  backend: AddressBackendName,
  listeners: Listeners,
  mailbox: string,
): readonly FilerConfig[] {
  const directories = new Map<string, string>([[mailbox, 'cluster.mailbox']]);
  const sections = root.list('filers', 1, FILERS_MAX).map((item, index) =>
    Section.of(item, `${root.key('filers')}[${index}]`, ['name', 'home', 'addresses', 'port', 'volumes']),
  );
  const filers = sections.map((section): FilerConfig => {
    const name = section.name('name');
    const home = section.string('home');
    if (!nodes.some((node) => node.name === home)) throw new ConfigError(section.key('home'), `no node named ${JSON.stringify(home)}`);
    const port = section.optionalInteger('port', 1, PORT_MAX) ?? FILER_PORT_DEFAULT;
    const serviceAddresses = section.list('addresses', 1, ADDRESSES_PER_FILER_MAX).map((value, index) => {
      const key = `${section.key('addresses')}[${index}]`;
      const service = parseServiceAddress(value, key);
      if (backend === 'loopback' && !isLoopback(service.address)) {
        throw new ConfigError(key, `${service.address} is not a loopback address (127.0.0.0/8 or ::1), which addressBackend "loopback" requires`);
      }
      if (backend === 'linux' && isLoopback(service.address)) {
        throw new ConfigError(key, `${service.address} is a loopback address, which cannot move between hosts; addressBackend "linux" needs a LAN address`);
      }
      listeners.claim({ host: service.address, port }, key);
      return Object.freeze(service);
    });
    const addresses = serviceAddresses.map((service) => service.address);
    const volumes = section.list('volumes', 1, VOLUMES_PER_FILER_MAX).map((item, index) =>
      parseVolume(Section.of(item, `${section.key('volumes')}[${index}]`, ['directory', 'export', 'clients']), base, directories),
    );
    const exportKeys = volumes.flatMap((volume, index) => (volume.path === undefined ? [] : [[volume.path, `${section.key('volumes')}[${index}].export`] as const]));
    checkUnique(exportKeys, 'export path');
    return Object.freeze({ name, home, addresses: Object.freeze(addresses), serviceAddresses: Object.freeze(serviceAddresses), port, volumes: Object.freeze(volumes) });
  });
  checkUnique(filers.map((filer, index) => [filer.name, sections[index]!.key('name')]), 'filer name');
  return Object.freeze(filers);
}

function parseVolume(section: Section, base: string, directories: Map<string, string>): VolumeConfig {
  const directory = section.filePath('directory', base);
  const other = directories.get(directory);
  if (other !== undefined) throw new ConfigError(section.key('directory'), `${directory} is also ${other}`);
  directories.set(directory, section.key('directory'));
  const exportPath = section.optionalString('export');
  const clients = section.optionalString('clients') ?? CLIENTS_DEFAULT;
  let rules: ClientRule[];
  try {
    rules = parseClientRules(clients);
  } catch (error) {
    if (error instanceof ExportRuleError) throw new ConfigError(section.key('clients'), error.message);
    throw error;
  }
  const volume = { directory, clients, rules: Object.freeze(rules) };
  return Object.freeze(exportPath === undefined ? volume : { ...volume, path: checkExportPath(exportPath, section.key('export')) });
}

function checkExportPath(value: string, key: string): string {
  if (!value.startsWith('/')) throw new ConfigError(key, `${JSON.stringify(value)} does not start with "/"`);
  if (Buffer.byteLength(value) > MNTPATHLEN) throw new ConfigError(key, `longer than ${MNTPATHLEN} bytes (MNTPATHLEN, RFC 1813 appendix I)`);
  if (value.includes('\0')) throw new ConfigError(key, 'contains a NUL character');
  if (value.split('/').some((part) => part === '.' || part === '..')) throw new ConfigError(key, `${JSON.stringify(value)} has a "." or ".." component`);
  return normalizeExportPath(value);
}

// ---- timing --------------------------------------------------------------------------------

const TIMING_KEYS = [
  'heartbeatIntervalMs',
  'peerTimeoutMs',
  'drainDeadlineMs',
  'operationDeadlineMs',
  'leaseMs',
  'leaseRenewMs',
  'leaseMarginMs',
  'stopGraceMs',
  'addressCheckMs',
] as const;

function parseTiming(section: Section | undefined): TimingConfig {
  const value = (key: string, max: number, fallback: number) => section?.optionalInteger(key, 1, max) ?? fallback;
  const key = (name: string) => (section === undefined ? `timing.${name}` : section.key(name));
  const leaseMs = section?.optionalInteger('leaseMs', LEASE_MS_MIN, LEASE_MS_MAX) ?? LEASE_MS_DEFAULT;
  const timing = {
    heartbeatIntervalMs: value('heartbeatIntervalMs', HEARTBEAT_INTERVAL_MS_MAX, HEARTBEAT_INTERVAL_MS_DEFAULT),
    peerTimeoutMs: value('peerTimeoutMs', PEER_TIMEOUT_MS_MAX, PEER_TIMEOUT_MS_DEFAULT),
    drainDeadlineMs: value('drainDeadlineMs', DRAIN_DEADLINE_MS_MAX, DRAIN_DEADLINE_MS_DEFAULT),
    operationDeadlineMs: value('operationDeadlineMs', OPERATION_DEADLINE_MS_MAX, OPERATION_DEADLINE_MS_DEFAULT),
    leaseMs,
    // Two renewals may fail before the lease lapses.
    leaseRenewMs: value('leaseRenewMs', LEASE_MS_MAX, Math.floor(leaseMs / 3)),
    leaseMarginMs: value('leaseMarginMs', LEASE_MS_MAX, LEASE_MARGIN_MS_DEFAULT),
    stopGraceMs: value('stopGraceMs', LEASE_MS_MAX, STOP_GRACE_MS_DEFAULT),
    addressCheckMs: section?.optionalInteger('addressCheckMs', ADDRESS_CHECK_MS_MIN, ADDRESS_CHECK_MS_MAX) ?? ADDRESS_CHECK_MS_DEFAULT,
  };
  if (timing.leaseRenewMs >= timing.leaseMs) {
    throw new ConfigError(key('leaseRenewMs'), `${timing.leaseRenewMs} must be less than leaseMs (${timing.leaseMs})`);
  }
  // fencing.md, "The timing argument": the partner's wait must cover the calls still running
  // when the lease lapsed and both clocks drifting apart.
  const marginLeast = timing.stopGraceMs + Math.ceil(2 * LEASE_DRIFT_RATIO_DEFAULT * timing.leaseMs);
  if (timing.leaseMarginMs < marginLeast) {
    throw new ConfigError(key('leaseMarginMs'), `${timing.leaseMarginMs} is less than stopGraceMs + 2% of leaseMs (${marginLeast}); see docs/design/fencing.md`);
  }
  // One late heartbeat must not start a failure takeover.
  const least = HEARTBEATS_PER_PEER_TIMEOUT_MIN * timing.heartbeatIntervalMs;
  if (timing.peerTimeoutMs < least) {
    throw new ConfigError(key('peerTimeoutMs'), `${timing.peerTimeoutMs} is less than ${HEARTBEATS_PER_PEER_TIMEOUT_MIN} heartbeat intervals (${least} ms)`);
  }
  // The operation includes the drain; a deadline shorter than the drain would always expire.
  if (timing.operationDeadlineMs <= timing.drainDeadlineMs) {
    throw new ConfigError(key('operationDeadlineMs'), `${timing.operationDeadlineMs} must be greater than drainDeadlineMs (${timing.drainDeadlineMs})`);
  }
  return Object.freeze(timing);
}

function parseAutoGiveback(section: Section | undefined): AutoGivebackSettings {
  return Object.freeze({
    enabled: section?.optionalBoolean('enabled') ?? false,
    delayMs: section?.optionalInteger('delayMs', 0, OPERATION_DEADLINE_MS_MAX) ?? AUTO_GIVEBACK_DELAY_MS_DEFAULT,
    attemptsMax: section?.optionalInteger('attemptsMax', 1, 1000) ?? AUTO_GIVEBACK_ATTEMPTS_DEFAULT,
    windowMs: section?.optionalInteger('windowMs', 1, 7 * 24 * 3_600_000) ?? AUTO_GIVEBACK_WINDOW_MS_DEFAULT,
  });
}

function parseHealth(section: Section | undefined): HealthCheckConfig | undefined {
  if (section === undefined) return undefined;
  return Object.freeze({
    command: section.string('command'),
    intervalMs: section.optionalInteger('intervalMs', 100, OPERATION_DEADLINE_MS_MAX) ?? HEALTH_INTERVAL_MS_DEFAULT,
    timeoutMs: section.optionalInteger('timeoutMs', 100, OPERATION_DEADLINE_MS_MAX) ?? HEALTH_TIMEOUT_MS_DEFAULT,
    failures: section.optionalInteger('failures', 1, 1000) ?? HEALTH_FAILURES_DEFAULT,
  });
}

// ---- addresses and listeners ---------------------------------------------------------------

/** An IP address in canonical form (IPv6 compressed, lower case); IPv4-mapped IPv6 stays IPv6. */
function canonicalAddress(address: string): string | undefined {
  const family = net.isIP(address);
  if (family === 4) return address;
  if (family !== 6 || address.includes('%')) return undefined;
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

function parseAddress(value: unknown, key: string): string {
  if (typeof value !== 'string') throw new ConfigError(key, `expected an IP address, found ${describe(value)}`);
  const address = canonicalAddress(value);
  if (address === undefined) throw new ConfigError(key, `${JSON.stringify(value)} is not an IPv4 or IPv6 address`);
  if (address === '0.0.0.0' || address === '::') throw new ConfigError(key, `${value} is the unspecified address; name a specific one`);
  return address;
}

/** `address` or `address/prefix`; without a prefix, the address alone (/32, /128). */
function parseServiceAddress(value: unknown, key: string): ServiceAddress {
  if (typeof value !== 'string') throw new ConfigError(key, `expected an IP address, found ${describe(value)}`);
  const slash = value.indexOf('/');
  const address = parseAddress(slash < 0 ? value : value.slice(0, slash), key);
  const bits = net.isIPv4(address) ? 32 : 128;
  if (slash < 0) return { address, prefixLength: bits };
  const prefix = value.slice(slash + 1);
  const prefixLength = /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
  if (!(prefixLength >= 1 && prefixLength <= bits)) throw new ConfigError(key, `${JSON.stringify(prefix)} is not a prefix length from 1 to ${bits}`);
  return { address, prefixLength };
}

function isLoopback(address: string): boolean {
  return (net.isIPv4(address) && address.startsWith('127.')) || address === '::1';
}

/** Every socket a node of the cluster may listen on, so no two keys claim the same one. */
class Listeners {
  readonly #claimed = new Map<string, string>();

  claim(endpoint: Endpoint, key: string): void {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(endpoint.host)?.[1];
    const id = `${mapped ?? endpoint.host} ${endpoint.port}`;
    const other = this.#claimed.get(id);
    if (other !== undefined) throw new ConfigError(key, `${formatEndpoint(endpoint)} is also ${other}`);
    this.#claimed.set(id, key);
  }
}

export function formatEndpoint(endpoint: Endpoint): string {
  return endpoint.host.includes(':') ? `[${endpoint.host}]:${endpoint.port}` : `${endpoint.host}:${endpoint.port}`;
}

function checkUnique(entries: readonly (readonly [string, string])[], what: string): void {
  const seen = new Map<string, string>();
  for (const [value, key] of entries) {
    const other = seen.get(value);
    if (other !== undefined) throw new ConfigError(key, `${what} ${JSON.stringify(value)} is also used by ${other}`);
    seen.set(value, key);
  }
}

// ---- typed access to one YAML mapping ------------------------------------------------------

/** A YAML mapping at `path`, with readers that check types and name the key on failure. */
class Section {
  private constructor(
    readonly where: string,
    private readonly raw: Readonly<Record<string, unknown>>,
  ) {}

  /** `value` as a mapping whose keys are all among `known` (a typo is an error, not a default). */
  static of(value: unknown, path: string, known: readonly string[]): Section {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new ConfigError(path, `expected a mapping${path === '' ? ' with the keys ' + known.join(', ') : ''}, found ${describe(value)}`);
    }
    const raw = value as Record<string, unknown>;
    for (const name of Object.keys(raw)) {
      if (!known.includes(name)) throw new ConfigError(joinKey(path, name), `unknown key (known here: ${known.join(', ')})`);
    }
    return new Section(path, raw);
  }

  key(name: string): string {
    return joinKey(this.where, name);
  }

  section(name: string, known: readonly string[]): Section {
    return Section.of(this.required(name), this.key(name), known);
  }

  optionalSection(name: string, known: readonly string[]): Section | undefined {
    return this.raw[name] === undefined ? undefined : this.section(name, known);
  }

  string(name: string): string {
    const value = this.required(name);
    if (typeof value !== 'string') throw new ConfigError(this.key(name), `expected a string, found ${describe(value)}`);
    if (value.length === 0) throw new ConfigError(this.key(name), 'is empty');
    return value;
  }

  optionalString(name: string): string | undefined {
    return this.raw[name] === undefined ? undefined : this.string(name);
  }

  name(key: string): string {
    const value = this.string(key);
    if (!NAME_PATTERN.test(value)) {
      throw new ConfigError(this.key(key), `${JSON.stringify(value)} is not a name: 1 to 63 letters, digits, "-" or "_", starting with a letter or digit`);
    }
    return value;
  }

  /** A path, resolved against `base`. */
  filePath(key: string, base: string): string {
    const value = this.string(key);
    if (value.includes('\0')) throw new ConfigError(this.key(key), 'contains a NUL character');
    return path.resolve(base, value);
  }

  optionalChoice<T extends string>(name: string, choices: readonly T[]): T | undefined {
    if (this.raw[name] === undefined) return undefined;
    const value = this.string(name);
    if (!(choices as readonly string[]).includes(value)) {
      throw new ConfigError(this.key(name), `${JSON.stringify(value)} is not one of ${choices.join(', ')}`);
    }
    return value as T;
  }

  optionalBoolean(name: string): boolean | undefined {
    const value = this.raw[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'boolean') throw new ConfigError(this.key(name), `expected true or false, found ${describe(value)}`);
    return value;
  }

  optionalInteger(name: string, min: number, max: number): number | undefined {
    const value = this.raw[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new ConfigError(this.key(name), `expected an integer, found ${describe(value)}`);
    if (value < min || value > max) throw new ConfigError(this.key(name), `${value} is out of range (${min} to ${max})`);
    return value;
  }

  list(name: string, min: number, max: number): unknown[] {
    const value = this.required(name);
    if (!Array.isArray(value)) throw new ConfigError(this.key(name), `expected a list, found ${describe(value)}`);
    if (value.length < min) throw new ConfigError(this.key(name), `has ${value.length} entries; at least ${min} needed`);
    if (value.length > max) throw new ConfigError(this.key(name), `has ${value.length} entries; at most ${max} allowed`);
    return value as unknown[];
  }

  /** HOST:PORT with an IP address (IPv6 in brackets) and a port from 1 to 65535. */
  endpoint(name: string): Endpoint {
    const value = this.string(name);
    const key = this.key(name);
    const found = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
    if (found === null) throw new ConfigError(key, `${JSON.stringify(value)} is not HOST:PORT`);
    const host = found[1] ?? found[2]!;
    const address = canonicalAddress(host);
    if (address === undefined) throw new ConfigError(key, `${JSON.stringify(value)}: HOST must be an IPv4 address or an IPv6 address in brackets`);
    if (address === '0.0.0.0' || address === '::') throw new ConfigError(key, `${JSON.stringify(value)}: HOST is the unspecified address; name a specific one`);
    const port = Number(found[3]);
    if (port < 1 || port > PORT_MAX) throw new ConfigError(key, `${JSON.stringify(value)}: the port must be 1 to ${PORT_MAX}`);
    return Object.freeze({ host: address, port });
  }

  private required(name: string): unknown {
    const value = this.raw[name];
    if (value === undefined) throw new ConfigError(this.key(name), 'missing');
    if (value === null) throw new ConfigError(this.key(name), 'has no value');
    return value;
  }
}

function joinKey(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

/** A value as a message shows it. */
function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value);
  return `${typeof value} ${String(value)}`;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
