// Structured logging (pino). Layer: platform. Every module takes a Logger rather than
// importing a global one, so tests can silence or capture it and requests carry their id
// (`log.child({ req })`) without ambient state.

import pino from 'pino';

export type Logger = pino.Logger;
export type LogLevel = pino.Level | 'silent';

export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

/** A logger writing JSON lines to stderr (stdout stays free for what a command prints). */
export function createLogger(level: LogLevel = 'info', name = 'tandem'): Logger {
  return pino({ name, level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
}

/** A logger that drops everything: for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
