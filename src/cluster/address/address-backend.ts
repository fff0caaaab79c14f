// How a node makes a filer's addresses its own and gives them up (DESIGN.md step 6;
// docs/design/takeover.md "Pieces"). Layer: cluster/address. The file server listens on the
// addresses; the backend makes sure they are this host's to listen on, and tells the LAN when
// they move. `loopback` has nothing to do (every 127.0.0.0/8 address is always local);
// `linux` adds and removes them on an interface (linux-backend.ts).
//
// The order, as FilerHost drives it: acquire (check that nobody else answers, add, announce)
// while the lease starts, then listen; and on the way out: stop listening (connections reset),
// release (remove). Announcing before listening moves the clients as early as possible: until
// the listeners are bound they are refused, and retry at once.

import type { Logger } from '../../platform/logger.js';
import type { TcpConnectionEndpoints } from '../../rpc/tcp-server.js';
import type { ClusterConfig, ServiceAddress } from '../config.js';
import { LinuxAddressBackend } from './linux-backend.js';

export interface AddressBackend {
  readonly name: string;
  /**
   * At node start: checks what the backend needs (interface, privileges, tools) and removes
   * filer addresses a previous run of this node left behind. Throws an AddressError saying what
   * is missing, and the node does not start.
   */
  start(): Promise<void>;
  /**
   * Before listening: all of `addresses` become this host's, and the neighbours are told
   * (gratuitous ARP, unsolicited NA, repeated), or none does (AddressError).
   */
  acquire(addresses: readonly ServiceAddress[]): Promise<void>;
  /**
   * After a failure takeover, once the addresses are acquired and before listening: makes the
   * clients of `connections` (the failed server's, as it reported them) drop them
   * (connection-tickle.ts). Resolves with how many were reset.
   */
  resetStale(addresses: readonly ServiceAddress[], connections: readonly TcpConnectionEndpoints[]): Promise<number>;
  /** After the listeners closed: the addresses are this host's no more. Throws if one stays. */
  release(addresses: readonly ServiceAddress[]): Promise<void>;
  /** At node stop, after every filer was released: stops announcing and the address guard. */
  stop(): Promise<void>;
}

/** An address could not be acquired or released; the message says why, for status and events. */
export class AddressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AddressError';
  }
}

/** Loopback addresses are local to every process of the host: nothing to add or announce. */
export class LoopbackAddressBackend implements AddressBackend {
  readonly name = 'loopback';
  async start(): Promise<void> {}
  async acquire(): Promise<void> {}
  /** A dead process's loopback connections were closed by its kernel: none is stale. */
  async resetStale(): Promise<number> {
    return 0;
  }
  async release(): Promise<void> {}
  async stop(): Promise<void> {}
}

/** The backend the configuration names, for node `node`. */
export function addressBackendFor(config: ClusterConfig, node: string, log: Logger): AddressBackend {
  if (config.addressBackend === 'loopback') return new LoopbackAddressBackend();
  const nodeConfig = config.nodeNamed(node);
  if (nodeConfig?.interface === undefined) throw new AddressError(`node ${node} has no interface for addressBackend "linux"`);
  return new LinuxAddressBackend({
    interface: nodeConfig.interface,
    addresses: config.filers.flatMap((filer) => filer.serviceAddresses),
    checkMs: config.timing.addressCheckMs,
    log: log.child({ interface: nodeConfig.interface }),
  });
}
