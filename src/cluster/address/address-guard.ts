// Removes this node's filer addresses when its process dies without releasing them (kill -9, a
// crash, the self-fence's SIGKILL). Layer: cluster/address. A node that is gone must not leave
// its addresses on its host: the kernel would go on answering ARP for them, and the partner's
// duplicate check would refuse to take them over.
//
// The guard is a small shell process in its own process group, so a signal to the node's group
// spares it. The node writes it the full set of addresses it holds, one line per change; when the
// node's end of the pipe closes (the node exited, however it died), the guard acts on the last
// set it was told and exits. An address on the interface is removed, an IPv4 one parked on `lo`
// first (linux-backend.ts, "Parking"); an address already parked on `lo` is removed after the
// parking time. A node that stops cleanly has released its addresses and leaves the guard only
// what it parked.

import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../../platform/logger.js';

/**
 * Reads sets until end of input, then acts on the last one. Entries are
 * `address/prefix@interface`; $1 is the parking time in seconds (0: no parking). An IPv6 entry
 * has a ":" in its address, so "interface:address" has two or more.
 */
export const GUARD_SCRIPT = [
  'park="$1"; held=""; parked=""',
  'while IFS= read -r line; do held="$line"; done',
  'for entry in $held; do',
  '  address="${entry%@*}"; device="${entry#*@}"',
  '  case "$device:$address" in',
  '    lo:*) parked="$parked $address" ;;',
  '    *:*:*) ip addr del "$address" dev "$device" 2>/dev/null ;;',
  '    *) if [ "$park" != 0 ]; then ip addr add "${address%/*}/32" dev lo 2>/dev/null && parked="$parked ${address%/*}/32"; fi',
  '       ip addr del "$address" dev "$device" 2>/dev/null ;;',
  '  esac',
  'done',
  'if [ -n "$parked" ]; then sleep "$park"; fi',
  'for address in $parked; do ip addr del "$address" dev lo 2>/dev/null; done',
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

  /** `parkSeconds`: how long an IPv4 address of a dead node stays parked on `lo` (0: none). */
  static start(log: Logger, parkSeconds = 0): AddressGuard {
    const child = spawn('sh', ['-c', GUARD_SCRIPT, 'tandem-address-guard', String(parkSeconds)], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    child.on('error', (error) => log.error({ err: error.message }, 'the address guard did not start: addresses outlive a crash of this node'));
    child.stdin!.on('error', () => {});
    // Neither the guard nor its pipe keeps the node alive.
    child.unref();
    (child.stdin as unknown as { unref?: () => void }).unref?.();
    return new AddressGuard(child, log);
  }

  /** The addresses this node holds now: what the guard acts on if the node dies. */
  hold(addresses: readonly GuardedAddress[]): void {
    const line = addresses.map((held) => `${held.address}/${held.prefixLength}@${held.interface}`).join(' ');
    if (this.#child.stdin?.writable !== true) {
      this.#log.warn({ held: line }, 'the address guard is gone: these addresses outlive a crash of this node');
      return;
    }
    this.#child.stdin.write(`${line}\n`);
  }

  /** The node stops: the guard acts on what it holds now (addresses parked on lo) and exits. */
  stop(): void {
    this.#child.stdin?.end();
  }
}
