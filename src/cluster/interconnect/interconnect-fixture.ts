// Test support for the interconnect: deadlines, a log capture (pino into memory), a clock driven
// by hand, a frame-aware TCP proxy that can record, alter, inject and swallow frames between the
// partners, and a pair of interconnects on 127.0.0.1. Layer: cluster/interconnect (test fixture).

import { EventEmitter } from 'node:events';
import net from 'node:net';
import pino from 'pino';
import type { Logger } from '../../platform/logger.js';
import type { CancelTimer, InterconnectClock } from './clock.js';
import { FRAME_BYTES_MAX, FRAME_HEADER_BYTES, FrameDecoder } from './framing.js';
import { Interconnect, type Endpoint, type InterconnectEvents, type InterconnectOptions } from './interconnect.js';

export const DEADLINE_MS = 5000;
export const SECRET = Buffer.from('0123456789abcdef0123456789abcdef', 'utf8');

/** Rejects when `promise` has not settled within the deadline. */
export function withDeadline<T>(promise: Promise<T>, what: string, ms = DEADLINE_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`deadline of ${ms} ms passed waiting for ${what}`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

type EventName = keyof InterconnectEvents;
type EventValue<K extends EventName> = InterconnectEvents[K][0];

/**
 * Every event of one interconnect, recorded from the moment it is attached (so none is missed
 * between a start and a wait), read in order per event name.
 */
export class EventRecorder {
  readonly #seen: { [K in EventName]: EventValue<K>[] } = { 'peer-up': [], 'peer-down': [], heartbeat: [] };
  readonly #read: Record<EventName, number> = { 'peer-up': 0, 'peer-down': 0, heartbeat: 0 };
  readonly #wake = new EventEmitter();

  constructor(interconnect: Interconnect) {
    const record = <K extends EventName>(name: K) => (value: EventValue<K>) => {
      this.#seen[name].push(value);
      this.#wake.emit(name);
    };
    interconnect.on('peer-up', record('peer-up'));
    interconnect.on('peer-down', record('peer-down'));
    interconnect.on('heartbeat', record('heartbeat'));
  }

  /** How many `name` events happened so far. */
  count(name: EventName): number {
    return this.#seen[name].length;
  }

  /** The next `name` event not yet read (already happened or still to come), within the deadline. */
  async next<K extends EventName>(name: K, ms = DEADLINE_MS): Promise<EventValue<K>> {
    const index = this.#read[name]++;
    if (index >= this.#seen[name].length) {
      await withDeadline(new Promise<void>((resolve) => {
        const check = () => {
          if (index >= this.#seen[name].length) return;
          this.#wake.off(name, check);
          resolve();
        };
        this.#wake.on(name, check);
      }), `${name} #${index + 1}`, ms);
    }
    return this.#seen[name][index]!;
  }

  /** Skips to the latest event: later calls of next() wait for new ones. */
  catchUp(name: EventName): void {
    this.#read[name] = this.#seen[name].length;
  }
}

export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [key: string]: unknown;
}

export const WARN = 40;

/** A pino logger writing into memory, and a way to wait for a line. */
export class LogCapture {
  readonly lines: LogLine[] = [];
  readonly text: string[] = [];
  readonly log: Logger;
  readonly #waiters = new Set<() => void>();

  constructor() {
    this.log = pino({ level: 'debug' }, {
      write: (line: string) => {
        this.text.push(line);
        this.lines.push(JSON.parse(line) as LogLine);
        for (const wake of this.#waiters) wake();
      },
    });
  }

  /** The first line (already logged or still to come) that satisfies `match`. */
  waitFor(match: (line: LogLine) => boolean, what: string, ms = DEADLINE_MS): Promise<LogLine> {
    const found = this.lines.find(match);
    if (found !== undefined) return Promise.resolve(found);
    let wake: () => void = () => {};
    const seen = new Promise<LogLine>((resolve) => {
      wake = () => {
        const line = this.lines.find(match);
        if (line !== undefined) resolve(line);
      };
      this.#waiters.add(wake);
    });
    return withDeadline(seen, `log line: ${what}`, ms).finally(() => this.#waiters.delete(wake));
  }

  /** A warning whose reason contains `text`. */
  waitForWarning(text: string, ms = DEADLINE_MS): Promise<LogLine> {
    return this.waitFor((line) => line.level === WARN && typeof line['reason'] === 'string' && line['reason'].includes(text), `warning "${text}"`, ms);
  }
}

interface ManualTimer {
  readonly dueMs: number;
  readonly delayMs: number;
  readonly run: () => void;
  cancelled: boolean;
}

/** A clock that moves only when told: advance() runs the timers that fall due, in order. */
export class ManualClock implements InterconnectClock {
  #nowMs = 1_000_000;
  readonly #timers: ManualTimer[] = [];
  readonly #scheduled = new EventEmitter();
  /** The delay of every timer ever set, in order. */
  readonly scheduledDelaysMs: number[] = [];

  nowMs(): number {
    return this.#nowMs;
  }

  after(delayMs: number, run: () => void): CancelTimer {
    const timer: ManualTimer = { dueMs: this.#nowMs + delayMs, delayMs, run, cancelled: false };
    this.#timers.push(timer);
    this.scheduledDelaysMs.push(delayMs);
    this.#scheduled.emit('scheduled');
    return () => {
      timer.cancelled = true;
    };
  }

  /** Delays of the timers still waiting, in the order they were set. */
  get pendingDelaysMs(): number[] {
    return this.#timers.filter((timer) => !timer.cancelled).map((timer) => timer.delayMs);
  }

  /** Resolves once `check` holds (tested now and after each new timer), within the deadline. */
  async waitForTimers(check: () => boolean, what: string): Promise<void> {
    if (check()) return;
    await withDeadline(new Promise<void>((resolve) => {
      const onScheduled = () => {
        if (!check()) return;
        this.#scheduled.off('scheduled', onScheduled);
        resolve();
      };
      this.#scheduled.on('scheduled', onScheduled);
    }), what);
  }

  advance(ms: number): void {
    const endMs = this.#nowMs + ms;
    for (;;) {
      const due = this.#timers
        .filter((timer) => !timer.cancelled && timer.dueMs <= endMs)
        .sort((x, y) => x.dueMs - y.dueMs)[0];
      if (due === undefined) break;
      due.cancelled = true;
      this.#nowMs = due.dueMs;
      due.run();
    }
    this.#nowMs = endMs;
    for (let i = this.#timers.length - 1; i >= 0; i--) if (this.#timers[i]!.cancelled) this.#timers.splice(i, 1);
  }
}

export type Direction = 'up' | 'down'; // up: dialer to listener; down: listener to dialer

/** One connection through the proxy: whole frames as they passed, and hooks to alter them. */
export class ProxiedConnection {
  /** Frames (header included) in the order they passed, per direction. */
  readonly frames: Record<Direction, Buffer[]> = { up: [], down: [] };
  readonly closed: Promise<void>;
  /** Replaces a frame before it is forwarded (return it unchanged to pass it). */
  alter: ((direction: Direction, frame: Buffer, index: number) => Buffer) | undefined;
  readonly #client: net.Socket;
  readonly #server: net.Socket;

  constructor(client: net.Socket, server: net.Socket, proxy: FrameProxy) {
    this.#client = client;
    this.#server = server;
    this.#pipe('up', client, server, proxy);
    this.#pipe('down', server, client, proxy);
    const closedOne = (socket: net.Socket) => new Promise<void>((resolve) => socket.once('close', () => resolve()));
    this.closed = Promise.all([closedOne(client), closedOne(server)]).then(() => {});
    for (const [a, b] of [[client, server], [server, client]] as const) {
      a.on('error', () => {});
      // A cut cable carries no FIN either: while swallowing, one side's close stays on its side.
      a.on('close', () => {
        if (!proxy.swallow) b.destroy();
      });
    }
  }

  destroy(): void {
    this.#client.destroy();
    this.#server.destroy();
  }

  /** Writes raw bytes into one direction, as if the sender had sent them. */
  inject(direction: Direction, bytes: Buffer): void {
    (direction === 'up' ? this.#server : this.#client).write(bytes);
  }

  #pipe(direction: Direction, from: net.Socket, to: net.Socket, proxy: FrameProxy): void {
    const decoder = new FrameDecoder(FRAME_BYTES_MAX);
    from.on('data', (chunk: Buffer) => {
      if (proxy.swallow) return;
      decoder.push(chunk);
      for (let payload = decoder.next(); payload !== undefined; payload = decoder.next()) {
        const header = Buffer.alloc(FRAME_HEADER_BYTES);
        header.writeUInt32BE(payload.length, 0);
        let frame: Buffer = Buffer.concat([header, payload]);
        frame = this.alter?.(direction, frame, this.frames[direction].length) ?? frame;
        this.frames[direction].push(frame);
        to.write(frame);
      }
    });
  }
}

/** A TCP proxy in front of the listener that understands frames (not their contents). */
export class FrameProxy {
  readonly connections: ProxiedConnection[] = [];
  /** When set, bytes in both directions vanish (a cut cable that leaves both sockets open). */
  swallow = false;
  readonly #server: net.Server;
  readonly #target: Endpoint;
  #port = 0;

  private constructor(target: Endpoint) {
    this.#target = target;
    this.#server = net.createServer((client) => {
      const server = net.connect({ host: target.host, port: target.port });
      const connection = new ProxiedConnection(client, server, this);
      this.connections.push(connection);
    });
  }

  static async start(target: Endpoint): Promise<FrameProxy> {
    const proxy = new FrameProxy(target);
    await new Promise<void>((resolve) => proxy.#server.listen({ host: target.host, port: 0 }, () => resolve()));
    const address = proxy.#server.address();
    proxy.#port = typeof address === 'object' && address !== null ? address.port : 0;
    return proxy;
  }

  get endpoint(): Endpoint {
    return { host: this.#target.host, port: this.#port };
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const connection of this.connections) connection.destroy();
    await Promise.all([closed, ...this.connections.map((connection) => connection.closed)]);
  }
}

export interface PairOptions {
  readonly heartbeatIntervalMs?: number;
  readonly peerTimeoutMs?: number;
  /** Changes to the dialer's (node a's) or the listener's (node b's) options. */
  readonly dialer?: Partial<InterconnectOptions>;
  readonly listener?: Partial<InterconnectOptions>;
  /** Put a FrameProxy between the dialer and the listener. */
  readonly proxy?: boolean;
}

export interface Pair {
  readonly a: Interconnect;
  readonly b: Interconnect;
  readonly logA: LogCapture;
  readonly logB: LogCapture;
  readonly eventsA: EventRecorder;
  readonly eventsB: EventRecorder;
  readonly proxy: FrameProxy | undefined;
  stop(): Promise<void>;
}

const LOOPBACK = '127.0.0.1';

/** Options for one node of the test cluster "tandem-test" (a dials, b listens). */
export function nodeOptions(node: string, partner: string, log: Logger, overrides: Partial<InterconnectOptions> = {}): InterconnectOptions {
  return {
    node, partner, cluster: 'tandem-test', secret: SECRET,
    listen: { host: LOOPBACK, port: 0 }, dial: { host: LOOPBACK, port: 1 },
    heartbeatIntervalMs: 50, peerTimeoutMs: 300, log, ...overrides,
  };
}

/**
 * Starts listener b, then dialer a pointed at b (or at a proxy in front of b). Does not wait for
 * the session: tests wait for the events they expect.
 */
export async function startPair(options: PairOptions = {}): Promise<Pair> {
  const timing = {
    ...(options.heartbeatIntervalMs === undefined ? {} : { heartbeatIntervalMs: options.heartbeatIntervalMs }),
    ...(options.peerTimeoutMs === undefined ? {} : { peerTimeoutMs: options.peerTimeoutMs }),
  };
  const logA = new LogCapture();
  const logB = new LogCapture();
  const b = new Interconnect(nodeOptions('b', 'a', logB.log, { ...timing, ...options.listener }));
  const eventsB = new EventRecorder(b);
  await b.start();
  const proxy = options.proxy ? await FrameProxy.start(b.listenAddress!) : undefined;
  const dial = proxy?.endpoint ?? b.listenAddress!;
  const a = new Interconnect(nodeOptions('a', 'b', logA.log, { ...timing, dial, ...options.dialer }));
  const eventsA = new EventRecorder(a);
  await a.start();
  return {
    a, b, logA, logB, eventsA, eventsB, proxy,
    async stop() {
      await Promise.all([a.stop(), b.stop()]);
      await proxy?.close();
    },
  };
}
