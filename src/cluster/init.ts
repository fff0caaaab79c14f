// `tandem init`: lays out a ready-to-run loopback pair in one directory: the configuration
// (tandem.yaml, commented section by section), a generated shared secret (mode 0600), the
// mailbox, and one volume per filer. Layer: cluster. Everything lives on one machine: the
// filers' service addresses are 127.0.0.11 and 127.0.0.12, which the loopback address backend
// binds without privileges, so a takeover can be tried without root or a second host.

import { randomBytes } from 'node:crypto';
import { access, mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { createVolume, openVolume } from '../storage/volume.js';
import {
  CLIENTS_DEFAULT,
  DRAIN_DEADLINE_MS_DEFAULT,
  FILER_PORT_DEFAULT,
  HEARTBEAT_INTERVAL_MS_DEFAULT,
  LOG_LEVEL_DEFAULT,
  NAME_PATTERN,
  OPERATION_DEADLINE_MS_DEFAULT,
  PEER_TIMEOUT_MS_DEFAULT,
} from './config.js';

export const CONFIG_FILE_NAME = 'tandem.yaml';
export const SECRET_FILE_NAME = 'secret';
export const MAILBOX_FOLDER_NAME = 'mailbox';
export const VOLUMES_FOLDER_NAME = 'volumes';
/** 256 random bits, written as hex. */
export const GENERATED_SECRET_BYTES = 32;
export const INIT_NODE_NAMES_DEFAULT: readonly [string, string] = ['a', 'b'];
/** The loopback pair's endpoints: unprivileged ports, one service address per filer. */
export const INIT_INTERCONNECT_PORTS: readonly [number, number] = [31001, 31002];
export const INIT_ADMIN_PORTS: readonly [number, number] = [31101, 31102];
export const INIT_FILER_ADDRESSES: readonly [string, string] = ['127.0.0.11', '127.0.0.12'];
const NODE_ADDRESS = '127.0.0.1';
const CLUSTER_NAME_DEFAULT = 'tandem';

/** Why `tandem init` refused. */
export class InitError extends Error {
  readonly code: 'exists' | 'invalid-names';

  constructor(code: 'exists' | 'invalid-names', message: string) {
    super(message);
    this.name = 'InitError';
    this.code = code;
  }
}

/** The endpoints of a loopback pair; tests choose free ones. */
export interface InitEndpoints {
  readonly interconnectPorts: readonly [number, number];
  readonly adminPorts: readonly [number, number];
  readonly filerAddresses: readonly [string, string];
  readonly filerPort: number;
}

/**
 * Loopback clients may mount read-write without root squashing: on a demo pair the operator
 * is the client. The volume roots belong to whoever ran init, so a non-root user can write too.
 */
export const INIT_CLIENTS = '127.0.0.0/8(rw,no_root_squash)';

export interface InitOptions {
  /** The two node names (default a and b); each is also the name of the filer it is home to. */
  readonly nodes?: readonly [string, string];
  readonly endpoints?: InitEndpoints;
}

/** Writes `directory`/tandem.yaml and what it refers to; refuses when any of it exists already. */
export async function initCluster(directory: string, options: InitOptions = {}): Promise<{ configFile: string }> {
  const nodes = checkNodeNames(options.nodes ?? INIT_NODE_NAMES_DEFAULT);
  const root = path.resolve(directory);
  const configFile = path.join(root, CONFIG_FILE_NAME);
  const secretFile = path.join(root, SECRET_FILE_NAME);
  const volumes = nodes.map((name) => path.join(root, VOLUMES_FOLDER_NAME, name));
  // Check everything before writing anything: a refused init leaves the directory as it was.
  for (const existing of [configFile, secretFile, ...volumes]) {
    if (await exists(existing)) throw new InitError('exists', `${existing} exists already; tandem init writes a new cluster only`);
  }
  await mkdir(root, { recursive: true });
  await mkdir(path.join(root, MAILBOX_FOLDER_NAME), { recursive: true });
  await writeSecret(secretFile);
  for (const [index, volume] of volumes.entries()) {
    await createVolume(volume, { name: nodes[index]! });
    await giveRootToCaller(volume);
  }
  const endpoints = options.endpoints ?? {
    interconnectPorts: INIT_INTERCONNECT_PORTS,
    adminPorts: INIT_ADMIN_PORTS,
    filerAddresses: INIT_FILER_ADDRESSES,
    filerPort: FILER_PORT_DEFAULT,
  };
  // The configuration comes last: its presence says the rest is in place.
  await writeNewFile(configFile, configText(clusterName(root), nodes, endpoints), 0o644);
  return { configFile };
}

function checkNodeNames(nodes: readonly [string, string]): readonly [string, string] {
  for (const name of nodes) {
    if (!NAME_PATTERN.test(name)) {
      throw new InitError('invalid-names', `node name ${JSON.stringify(name)}: 1 to 63 letters, digits, "-" or "_", starting with a letter or digit`);
    }
  }
  if (nodes[0] === nodes[1]) throw new InitError('invalid-names', `the two nodes need different names, not ${JSON.stringify(nodes[0])} twice`);
  return nodes;
}

/** The directory's name when it is a valid cluster name, else "tandem". */
function clusterName(root: string): string {
  const name = path.basename(root);
  return NAME_PATTERN.test(name) ? name : CLUSTER_NAME_DEFAULT;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

async function writeSecret(file: string): Promise<void> {
  await writeNewFile(file, `${randomBytes(GENERATED_SECRET_BYTES).toString('hex')}\n`, 0o600);
}

/** The volume's root directory belongs to the user running init. */
async function giveRootToCaller(directory: string): Promise<void> {
  const volume = await openVolume(directory);
  try {
    const owner = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
    volume.setattr({ uid: 0, gid: 0, gids: [] }, volume.rootFileId, owner);
  } finally {
    await volume.close();
  }
}

/** Creates `file` exclusively with `mode` (whatever the umask), writes `text` and syncs it. */
async function writeNewFile(file: string, text: string, mode: number): Promise<void> {
  const handle = await open(file, 'wx', mode);
  try {
    await handle.chmod(mode);
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A YAML scalar: plain where that reads back as the same string, quoted otherwise ("1", "true"). */
const scalar = (value: string): string => stringify(value).trimEnd();

function nodeEntry(name: string, partner: string, index: 0 | 1, endpoints: InitEndpoints): string {
  return `  - name: ${scalar(name)}
    interconnect: ${NODE_ADDRESS}:${endpoints.interconnectPorts[index]}
    admin: ${NODE_ADDRESS}:${endpoints.adminPorts[index]}
    partner: ${scalar(partner)}
`;
}

function filerEntry(name: string, index: 0 | 1, endpoints: InitEndpoints): string {
  return `  - name: ${scalar(name)}
    home: ${scalar(name)}
    addresses: [${endpoints.filerAddresses[index]}]
    port: ${endpoints.filerPort}
    volumes:
      - directory: ${scalar(`./${VOLUMES_FOLDER_NAME}/${name}`)}
        export: ${scalar(`/${name}`)}
        clients: ${JSON.stringify(INIT_CLIENTS)}
`;
}

/** `key: value  # comment` lines with the comments in one column. */
function timingLines(rows: readonly (readonly [string, number, string])[]): string {
  return rows.map(([key, value, comment]) => `  ${`${key}: ${value}`.padEnd(28)}# ${comment}`).join('\n');
}

function configText(cluster: string, [a, b]: readonly [string, string], endpoints: InitEndpoints): string {
  return `# Tandem cluster configuration: a pair of nodes on this machine's loopback addresses, each
# the home of one filer. Both nodes read this same file; start each in its own terminal,
# from this folder:
#   tandem node --config ${CONFIG_FILE_NAME} --node ${a}
#   tandem node --config ${CONFIG_FILE_NAME} --node ${b}
# Relative paths resolve against the folder of this file. Unknown keys are refused, so a typo
# stops the node at start instead of falling back to a default.

# The cluster as a whole.
cluster:
  name: ${scalar(cluster)}
  # The shared secret that authenticates the interconnect and the admin API: this file's
  # contents (keep it mode 0600). Or give it inline as secret: "..." (at least 32 characters).
  secretFile: ./${SECRET_FILE_NAME}
  # Epoch claims, state records and hand-off state of every filer, on storage both nodes reach.
  mailbox: ./${MAILBOX_FOLDER_NAME}

# The nodes: one \`tandem node\` process each. A node takes over its partner's filers when an
# operator asks (tandem takeover) or when the partner fails; partners name each other.
#   interconnect  HOST:PORT of the authenticated link between partners (heartbeats, takeover)
#   admin         HOST:PORT of the admin API (tandem status, takeover, giveback)
# An IPv6 HOST goes in brackets and the value in quotes: "[::1]:31001".
nodes:
${nodeEntry(a, b, 0, endpoints)}${nodeEntry(b, a, 1, endpoints)}
# The filers: the identities NFS clients see. Each is served by its home node, or by the home
# node's partner after a takeover, on the same addresses with the same exports, file handles
# and write verifier.
#   addresses  service addresses; they move with the filer (loopback backend: 127.0.0.0/8 or ::1)
#   port       portmapper, MOUNT and NFS on each address (default ${FILER_PORT_DEFAULT})
#   volumes    directories made by \`tandem volume create\`, on storage both nodes reach;
#              export: the path clients mount (default /<volume name>);
#              clients: who may mount, as in exports(5): CLIENT(options) ..., the first match
#              applies (default "${CLIENTS_DEFAULT}")
# A client reaches an export at nfs://ADDRESS/EXPORT?version=3&nfsport=PORT&mountport=PORT
filers:
${filerEntry(a, 0, endpoints)}${filerEntry(b, 1, endpoints)}
# Failure detection and takeover deadlines, in milliseconds (these are the defaults).
timing:
${timingLines([
    ['heartbeatIntervalMs', HEARTBEAT_INTERVAL_MS_DEFAULT, 'how often partners send heartbeats'],
    ['peerTimeoutMs', PEER_TIMEOUT_MS_DEFAULT, 'silence after which the partner counts as down'],
    ['drainDeadlineMs', DRAIN_DEADLINE_MS_DEFAULT, 'how long a releasing node lets calls in progress finish'],
    ['operationDeadlineMs', OPERATION_DEADLINE_MS_DEFAULT, 'after this a takeover or giveback is settled from the mailbox'],
  ])}

# How a node activates a filer's addresses: loopback binds 127.0.0.0/8 addresses (no
# privileges needed); linux adds them to a network interface and announces them with
# gratuitous ARP.
addressBackend: loopback

# The structured log (JSON lines on stderr): fatal, error, warn, info, debug, trace or silent.
log:
  level: ${LOG_LEVEL_DEFAULT}
`;
}
