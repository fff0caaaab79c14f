// The mailbox of one filer (layer: cluster): a folder `<mailbox>/<filer>/` on storage both nodes
// of a pair reach, holding the filer's epoch claims, its state record and its hand-off state
// (docs/design/takeover.md, "The mailbox" and "Fencing rule"). The rule: claims decide, the
// record reports. A claim `epoch-<N>.json` is created exclusively and never rewritten, so at most
// one node ever holds epoch N, and the current epoch is the highest claim present; `state.json`
// says what the owner last did, and where it disagrees with the claims (a crash between claim and
// record) the highest claim wins. `handoff-<N>.json` is what the node releasing at epoch N left
// for the node acquiring after it.
//
//   epoch-<N>.json    { filer, epoch: "N", owner, claimedAtMs, ...detail }   O_EXCL, fsynced
//   state.json        { filer, epoch: "N", owner, state, updatedAtMs }       atomic replace
//   handoff-<N>.json  { filer, epoch: "N", writtenAtMs, state }              atomic replace
//
// Epochs are decimal strings in JSON (they are bigints here, and JSON numbers lose precision
// past 2^53). Every file is read with a size limit, and parsed defensively: a name that is not a
// claim is ignored, a claim or record that does not parse or names another filer is refused.

import assert from 'node:assert/strict';
import { access, mkdir, readdir, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import {
  createExclusive,
  readBounded,
  replaceAtomically,
  syncFolderOf,
} from './atomic-file.js';

/** Claims kept after a successful claim; older claims and their hand-offs are removed. */
export const EPOCH_CLAIMS_KEPT = 16;
/** Largest claim file read (or written): the fixed fields plus a small detail. */
export const CLAIM_BYTES_MAX = 4096;
/** Largest state.json read: the record has five short fields. */
export const STATE_BYTES_MAX = 4096;
/** Largest hand-off read (or written): the duplicate-request cache snapshot and the mount list. */
export const HANDOFF_BYTES_MAX = 64 * 1024 * 1024;
/** Longest filer or owner (node) name, in UTF-8 bytes. */
export const NAME_BYTES_MAX = 255;
/** Highest epoch: an unsigned 64-bit number, as storage and the interconnect carry it. */
export const EPOCH_MAX = 2n ** 64n - 1n;
/** Decimal digits of EPOCH_MAX: a longer name is not a claim. */
const EPOCH_DIGITS_MAX = EPOCH_MAX.toString().length;
/**
 * How long a claim that does not parse yet is waited for before it is called corrupt. A claim is
 * created empty and then written: a racer that lost (EEXIST) may read it in between, and over
 * NFS the contents reach other clients only at the winner's fsync.
 */
export const CLAIM_SETTLE_MS = 5000;
/** How often a claim that does not parse yet is read again. */
export const CLAIM_SETTLE_POLL_MS = 5;

export const STATE_FILE = 'state.json';
const CLAIM_NAME = /^epoch-(0|[1-9][0-9]*)\.json$/;
const HANDOFF_NAME = /^handoff-(0|[1-9][0-9]*)\.json$/;
/** A filer name is a folder name: no separators, no dot names, nothing a shell would mangle. */
const FILER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const EPOCH_TEXT = /^(0|[1-9][0-9]*)$/;
/** Fields of a claim that its `detail` may not replace. */
const CLAIM_FIELDS: ReadonlySet<string> = new Set(['filer', 'epoch', 'owner', 'claimedAtMs']);

/** What a filer's state record says: `normal` (served by its home node), `taken-over` (served by
 *  the partner), `released` (served by no node: between release and acquire), `giveback`. */
export type FilerState = 'normal' | 'taken-over' | 'released' | 'giveback';
export const FILER_STATES: readonly FilerState[] = ['normal', 'taken-over', 'released', 'giveback'];

/** `state.json`: it reports; the claims decide. */
export interface FilerStateRecord {
  readonly filer: string;
  readonly epoch: bigint;
  /** The node serving (or last serving) the filer; null when none does. */
  readonly owner: string | null;
  readonly state: FilerState;
  readonly updatedAtMs: number;
}

/** The highest claim: the current epoch and the node that holds it. */
export interface EpochClaim {
  readonly epoch: bigint;
  readonly owner: string;
}

export type ClaimOutcome = { readonly won: true } | { readonly won: false; readonly holder: string };

export type MailboxErrorCode =
  | 'stale-epoch' // a claim or write below the current epoch: the caller is fenced
  | 'corrupt' // a mailbox file that does not parse, is too large, or names another filer
  | 'io'; // the file system failed

export class MailboxError extends Error {
  readonly code: MailboxErrorCode;
  /** The mailbox file concerned, when there is one. */
  readonly path: string | undefined;
  constructor(code: MailboxErrorCode, message: string, options: { path?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MailboxError';
    this.code = code;
    this.path = options.path;
  }
}

export interface MailboxOptions {
  /** Wall-clock milliseconds for the timestamps written (claimedAtMs, writtenAtMs). */
  readonly now?: () => number;
  /** Overrides CLAIM_SETTLE_MS (tests of a torn claim). */
  readonly claimSettleMs?: number;
}

export class Mailbox {
  readonly filer: string;
  /** `<mailbox>/<filer>/`, absolute. */
  readonly folder: string;
  readonly #now: () => number;
  readonly #claimSettleMs: number;

  private constructor(folder: string, filer: string, options: MailboxOptions) {
    this.folder = folder;
    this.filer = filer;
    this.#now = options.now ?? Date.now;
    this.#claimSettleMs = options.claimSettleMs ?? CLAIM_SETTLE_MS;
  }

  /** Opens the mailbox of `filer` under `directory`, creating its folder (durably) if needed. */
  static async open(directory: string, filer: string, options: MailboxOptions = {}): Promise<Mailbox> {
    assertName(filer, 'filer');
    assert.ok(FILER_NAME.test(filer), `filer name ${JSON.stringify(filer)} is not a folder name`);
    const folder = join(resolve(directory), filer);
    await io('create mailbox folder', folder, async () => {
      const created = await mkdir(folder, { recursive: true });
      // mkdir returns the first folder it created: make every new name durable, up to there.
      if (created !== undefined) {
        for (let path = folder; path !== dirname(created); path = dirname(path)) await syncFolderOf(dirname(path));
      }
    });
    return new Mailbox(folder, filer, options);
  }

  /** The highest claim present, or undefined when the filer was never claimed. */
  async currentEpoch(): Promise<EpochClaim | undefined> {
    const epoch = await this.#highestEpoch();
    if (epoch === undefined) return undefined;
    const owner = await this.#holderOf(epoch);
    if (owner === undefined) {
      throw new MailboxError('io', `claim ${this.#claimPath(epoch)} vanished while it was read`, {
        path: this.#claimPath(epoch),
      });
    }
    return { epoch, owner };
  }

  /**
   * Claims `epoch` for `owner`: creates `epoch-<N>.json` exclusively and makes it durable. Exactly
   * one of any number of concurrent claimants of one epoch wins; the others get the holder (which
   * may be `owner` itself, if it claimed before). An epoch below the current one is refused
   * ('stale-epoch'): claims only grow. Winning does not mean serving: a higher claim may have
   * appeared meanwhile, so check `isFenced` before activating (the fencing rule).
   */
  async claim(epoch: bigint, owner: string, detail: Readonly<Record<string, unknown>> = {}): Promise<ClaimOutcome> {
    assertEpoch(epoch, 1n);
    assertName(owner, 'owner');
    for (const key of Object.keys(detail)) assert.ok(!CLAIM_FIELDS.has(key), `claim detail may not set ${key}`);
    const contents = serialize(
      { filer: this.filer, epoch: epoch.toString(), owner, claimedAtMs: this.#now(), ...detail },
      CLAIM_BYTES_MAX,
      'claim',
    );
    const path = this.#claimPath(epoch);
    const highest = await this.#highestEpoch();
    if (highest !== undefined && epoch < highest) {
      throw new MailboxError('stale-epoch', `claim ${path} refused: epoch ${highest} is already claimed`, { path });
    }
    // epoch === highest: the create below fails, and the holder is read, as for a racer.
    const won = await io('create claim', path, () => createExclusive(path, contents));
    if (won) {
      // Best effort: the claim is won whatever pruning does; a name that could not be removed
      // is left to the next successful claim.
      await this.#prune();
      return { won: true };
    }
    const holder = await this.#holderOf(epoch);
    if (holder === undefined) {
      // Created by another node and pruned since: newer claims exist.
      throw new MailboxError('stale-epoch', `claim ${path} refused: it was claimed, and pruned since`, { path });
    }
    return { won: false, holder };
  }

  /** True when a claim higher than `epoch` exists: a node holding `epoch` must not serve. */
  async isFenced(epoch: bigint): Promise<boolean> {
    const highest = await this.#highestEpoch();
    return highest !== undefined && highest > epoch;
  }

  /** The state record, or undefined when none was written. */
  async readState(): Promise<FilerStateRecord | undefined> {
    const path = join(this.folder, STATE_FILE);
    const value = await this.#readJson(path, STATE_BYTES_MAX);
    if (value === undefined) return undefined;
    if (!isRecord(value)) throw corrupt(path, 'is not a JSON object');
    this.#checkFiler(path, value);
    const epoch = parseEpochField(path, value);
    const { owner, state, updatedAtMs } = value;
    if (owner !== null && !isName(owner)) throw corrupt(path, `has an invalid owner ${JSON.stringify(owner)}`);
    if (typeof state !== 'string' || !(FILER_STATES as readonly string[]).includes(state)) {
      throw corrupt(path, `has an invalid state ${JSON.stringify(state)}`);
    }
    if (!isMilliseconds(updatedAtMs)) throw corrupt(path, `has an invalid updatedAtMs ${JSON.stringify(updatedAtMs)}`);
    return { filer: this.filer, epoch, owner, state: state as FilerState, updatedAtMs };
  }

  /**
   * Replaces the state record atomically. A record below the current claim is refused
   * ('stale-epoch'): a fenced node cannot overwrite the record of a newer owner. If a higher
   * claim appears while the record is written, the record is on disk but already stale (the
   * claims decide), and the writer learns it is fenced from the same 'stale-epoch'.
   */
  async writeState(record: FilerStateRecord): Promise<void> {
    assert.equal(record.filer, this.filer, 'a state record names the filer of its mailbox');
    assertEpoch(record.epoch, 0n);
    if (record.owner !== null) assertName(record.owner, 'owner');
    assert.ok(FILER_STATES.includes(record.state), `unknown filer state ${String(record.state)}`);
    assert.ok(isMilliseconds(record.updatedAtMs), `updatedAtMs ${record.updatedAtMs} is not a time`);
    const path = join(this.folder, STATE_FILE);
    const contents = serialize(
      {
        filer: this.filer,
        epoch: record.epoch.toString(),
        owner: record.owner,
        state: record.state,
        updatedAtMs: record.updatedAtMs,
      },
      STATE_BYTES_MAX,
      'state record',
    );
    await this.#writeAtEpoch(record.epoch, path, contents, 'state record');
  }

  /** Writes the hand-off state of the node releasing at `epoch`, atomically; refused below the current claim. */
  async writeHandoff(epoch: bigint, state: unknown): Promise<void> {
    assertEpoch(epoch, 0n);
    assert.ok(state !== undefined, 'a hand-off holds a value');
    const path = this.#handoffPath(epoch);
    const contents = serialize(
      { filer: this.filer, epoch: epoch.toString(), writtenAtMs: this.#now(), state },
      HANDOFF_BYTES_MAX,
      'hand-off',
    );
    await this.#writeAtEpoch(epoch, path, contents, 'hand-off');
  }

  /** True when a hand-off for `epoch` is there (a stat: status asks this often; no read). */
  async hasHandoff(epoch: bigint): Promise<boolean> {
    assertEpoch(epoch, 0n);
    const path = this.#handoffPath(epoch);
    return io('look for hand-off', path, async () => {
      try {
        await access(path);
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw error;
      }
    });
  }

  /** The hand-off written at `epoch`, or undefined when there is none. */
  async readHandoff(epoch: bigint): Promise<unknown> {
    assertEpoch(epoch, 0n);
    const path = this.#handoffPath(epoch);
    const value = await this.#readJson(path, HANDOFF_BYTES_MAX);
    if (value === undefined) return undefined;
    if (!isRecord(value)) throw corrupt(path, 'is not a JSON object');
    this.#checkFiler(path, value);
    this.#checkEpoch(path, value, epoch);
    if (!('state' in value)) throw corrupt(path, 'holds no state');
    return value['state'];
  }

  /** Writes `contents` to `path` for a holder of `epoch`: refused before, and reported after, a higher claim. */
  async #writeAtEpoch(epoch: bigint, path: string, contents: Buffer, what: string): Promise<void> {
    const before = await this.#highestEpoch();
    if (before !== undefined && epoch < before) {
      const message = `${what} ${path} at epoch ${epoch} refused: epoch ${before} is claimed`;
      throw new MailboxError('stale-epoch', message, { path });
    }
    // Claims decide, the record reports: a record at an epoch nobody claimed reports a lie.
    assert.ok(epoch <= (before ?? 0n), `${what} at epoch ${epoch}, above the highest claim ${before ?? 'none'}`);
    await io(`write ${what}`, path, () => replaceAtomically(path, contents));
    const after = await this.#highestEpoch();
    if (after !== undefined && epoch < after) {
      const message = `${what} ${path} at epoch ${epoch} written, but epoch ${after} was claimed meanwhile: it is stale`;
      throw new MailboxError('stale-epoch', message, { path });
    }
  }

  /** Epochs of every claim present, by name only (contents are not read). */
  async #claimEpochs(): Promise<bigint[]> {
    return (await this.#names()).flatMap((name) => {
      const epoch = epochOfName(CLAIM_NAME, name);
      return epoch === undefined ? [] : [epoch];
    });
  }

  async #highestEpoch(): Promise<bigint | undefined> {
    let highest: bigint | undefined;
    for (const epoch of await this.#claimEpochs()) if (highest === undefined || epoch > highest) highest = epoch;
    return highest;
  }

  async #names(): Promise<string[]> {
    return io('list mailbox folder', this.folder, () => readdir(this.folder));
  }

  /**
   * The owner named by the claim of `epoch`, or undefined when there is no such claim. A claim
   * that does not parse is read again until CLAIM_SETTLE_MS has passed (its creator may be
   * writing it); then, and at once for a claim that parses but is wrong, it is 'corrupt'.
   */
  async #holderOf(epoch: bigint): Promise<string | undefined> {
    const path = this.#claimPath(epoch);
    const attempts = Math.max(1, Math.ceil(this.#claimSettleMs / CLAIM_SETTLE_POLL_MS));
    for (let attempt = 1; ; attempt += 1) {
      const read = await io('read claim', path, () => readBounded(path, CLAIM_BYTES_MAX));
      if (read.kind === 'absent') return undefined;
      if (read.kind === 'too-large') throw corrupt(path, `holds ${read.bytes} bytes, more than ${CLAIM_BYTES_MAX}`);
      const value = parseJson(read.contents);
      if (value === undefined) {
        if (attempt < attempts) {
          await delay(CLAIM_SETTLE_POLL_MS);
          continue;
        }
        const bytes = read.contents.length;
        throw corrupt(path, `does not parse as JSON (${bytes} bytes), still after ${this.#claimSettleMs} ms`);
      }
      if (!isRecord(value)) throw corrupt(path, 'is not a JSON object');
      this.#checkFiler(path, value);
      this.#checkEpoch(path, value, epoch);
      const owner = value['owner'];
      if (!isName(owner)) throw corrupt(path, `has an invalid owner ${JSON.stringify(owner)}`);
      return owner;
    }
  }

  /** Removes claims older than the newest EPOCH_CLAIMS_KEPT, and hand-offs older than the oldest kept. Never throws. */
  async #prune(): Promise<void> {
    const names = await readdir(this.folder).catch((): string[] => []);
    const claims = names.flatMap((name) => {
      const epoch = epochOfName(CLAIM_NAME, name);
      return epoch === undefined ? [] : [epoch];
    });
    if (claims.length <= EPOCH_CLAIMS_KEPT) return;
    claims.sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
    const oldestKept = claims[EPOCH_CLAIMS_KEPT - 1]!;
    const doomed = names.filter((name) => {
      const epoch = epochOfName(CLAIM_NAME, name) ?? epochOfName(HANDOFF_NAME, name);
      return epoch !== undefined && epoch < oldestKept;
    });
    // Hand-offs first: a hand-off is never left without its claim by a crash in between.
    doomed.sort((a, b) => Number(a.startsWith('epoch-')) - Number(b.startsWith('epoch-')));
    // Each name on its own: the partner may be pruning the same names at the same time.
    for (const name of doomed) await unlink(join(this.folder, name)).catch(() => undefined);
  }

  async #readJson(path: string, bytesMax: number): Promise<unknown> {
    const read = await io('read', path, () => readBounded(path, bytesMax));
    if (read.kind === 'absent') return undefined;
    if (read.kind === 'too-large') throw corrupt(path, `holds ${read.bytes} bytes, more than ${bytesMax}`);
    const value = parseJson(read.contents);
    if (value === undefined) throw corrupt(path, `does not parse as JSON (${read.contents.length} bytes)`);
    return value;
  }

  #checkFiler(path: string, value: Record<string, unknown>): void {
    if (value['filer'] !== this.filer) {
      throw corrupt(path, `names filer ${JSON.stringify(value['filer'])}, not ${JSON.stringify(this.filer)}`);
    }
  }

  #checkEpoch(path: string, value: Record<string, unknown>, epoch: bigint): void {
    if (parseEpochField(path, value) !== epoch) throw corrupt(path, `names epoch ${String(value['epoch'])}, not ${epoch}`);
  }

  #claimPath(epoch: bigint): string {
    return join(this.folder, `epoch-${epoch}.json`);
  }

  #handoffPath(epoch: bigint): string {
    return join(this.folder, `handoff-${epoch}.json`);
  }
}

/** Runs file-system work, turning a failure into MailboxError 'io' naming what and where. */
async function io<T>(what: string, path: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof MailboxError) throw error;
    throw new MailboxError('io', `${what} ${path}: ${messageOf(error)}`, { path, cause: error });
  }
}

function corrupt(path: string, problem: string): MailboxError {
  return new MailboxError('corrupt', `mailbox file ${path} ${problem}`, { path });
}

function serialize(value: Record<string, unknown>, bytesMax: number, what: string): Buffer {
  const contents = Buffer.from(`${JSON.stringify(value, null, 2)}\n`);
  // Never write what could not be read back: the limit binds the writer too.
  if (contents.length > bytesMax) throw new RangeError(`${what} of ${contents.length} bytes exceeds ${bytesMax}`);
  return contents;
}

function parseJson(contents: Buffer): unknown {
  try {
    return JSON.parse(contents.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function parseEpochField(path: string, value: Record<string, unknown>): bigint {
  const text = value['epoch'];
  const epoch = typeof text === 'string' ? parseEpoch(text) : undefined;
  if (epoch === undefined) throw corrupt(path, `has an invalid epoch ${JSON.stringify(text)} (a decimal string)`);
  return epoch;
}

function parseEpoch(text: string): bigint | undefined {
  if (text.length > EPOCH_DIGITS_MAX || !EPOCH_TEXT.test(text)) return undefined;
  const epoch = BigInt(text);
  return epoch <= EPOCH_MAX ? epoch : undefined;
}

function epochOfName(pattern: RegExp, name: string): bigint | undefined {
  const digits = pattern.exec(name)?.[1];
  return digits === undefined ? undefined : parseEpoch(digits);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && Buffer.byteLength(value) <= NAME_BYTES_MAX;
}

function isMilliseconds(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function assertName(name: string, what: string): void {
  assert.ok(isName(name), `${what} name ${JSON.stringify(name)}: 1 to ${NAME_BYTES_MAX} bytes`);
}

function assertEpoch(epoch: bigint, lowest: bigint): void {
  const valid = typeof epoch === 'bigint' && epoch >= lowest && epoch <= EPOCH_MAX;
  assert.ok(valid, `epoch ${String(epoch)} out of ${lowest}..${EPOCH_MAX}`);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function delay(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}
