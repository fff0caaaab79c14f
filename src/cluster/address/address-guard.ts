// Removes this node's filer addresses when its process dies without releasing them (kill -9, a
// crash, the self-fence's SIGKILL). Layer: cluster/address. A node that is gone must not leave
// its addresses on its host: the kernel would go on answering ARP for them, and the partner's
// duplicate check would refuse to take them over.
//
// The guard is a small shell process in its own process group, so a signal to the node's group
// spares it. The node writes it the full set of addresses it holds, one line per change; when the
// node's end of the pipe closes (the node exited, however it died), the guard removes the last
// set it was told and exits. A node that stops cleanly releases its addresses first and tells
// the guard an empty set.

import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../../platform/logger.js';

/** Reads sets until end of input, then removes the last one. Entries are `address/prefix@interface`. */
const GUARD_SCRIPT = [
  'held=""',
  'while IFS= read -r line; do held="$line"; done',
  'for entry in $held; do ip addr del "${entry%@*}" dev "${entry#*@}" 2>/dev/null; done',
].join('\n');

export interface GuardedAddress {
  readonly address: string;
  readonly prefixLength: number;
  readonly interface: string;
}

export class AddressGuard {
  readonly #child: ChildProcess;
  readonly #log: Logger;

  private constructor(child: ChildProcess, log: Logger) {
    this.#child = child;
    this.#log = log;
  }

  static start(log: Logger): AddressGuard {
    const child = spawn('sh', ['-c', GUARD_SCRIPT], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    child.on('error', (error) => log.error({ err: error.message }, 'the address guard did not start: addresses outlive a crash of this node'));
    child.stdin!.on('error', () => {});
    // Neither the guard nor its pipe keeps the node alive.
    child.unref();
    (child.stdin as unknown as { unref?: () => void }).unref?.();
    return new AddressGuard(child, log);
  }

  /** The addresses this node holds now: what the guard removes if the node dies. */
  hold(addresses: readonly GuardedAddress[]): void {
    const line = addresses.map((held) => `${held.address}/${held.prefixLength}@${held.interface}`).join(' ');
    if (this.#child.stdin?.writable !== true) {
      this.#log.warn({ held: line }, 'the address guard is gone: these addresses outlive a crash of this node');
      return;
    }
    this.#child.stdin.write(`${line}\n`);
  }

  /** A clean stop: nothing is held any more, and the guard exits. */
  stop(): void {
    this.hold([]);
    this.#child.stdin?.end();
  }
}
