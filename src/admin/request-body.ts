// Reading and checking an admin request's body: bounded in size, JSON, and of the one shape the
// command routes take ({ "filer": NAME }). Layer: admin. Every refusal is an HttpRefusal with
// the status and a message naming the problem, which the server sends back as { error }.

import type { IncomingMessage } from 'node:http';

/** A request body larger than this is refused with 413 before or while it is read. */
export const ADMIN_BODY_BYTES_MAX = 4096;

/** A request the server refuses: `status` is the HTTP status, the message says why. */
export class HttpRefusal extends Error {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, message: string, headers: Readonly<Record<string, string>> = {}) {
    super(message);
    this.name = 'HttpRefusal';
    this.status = status;
    this.headers = headers;
  }
}

/** The body of `request`, at most `bytesMax` bytes; an HttpRefusal(413) beyond that. */
export function readBody(request: IncomingMessage, bytesMax = ADMIN_BODY_BYTES_MAX): Promise<Buffer> {
  const tooLarge = () => new HttpRefusal(413, `request body larger than ${bytesMax} bytes`);
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > bytesMax) {
    request.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    let refused = false;
    request.on('data', (chunk: Buffer) => {
      if (refused) return; // discard the rest until the connection closes
      bytes += chunk.length;
      if (bytes > bytesMax) {
        refused = true;
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** The filer named by a command body `{ "filer": NAME }`; an HttpRefusal(400) naming the problem. */
/** A takeover or giveback request: `{"filer": NAME}`, and `"force": true` for a forced takeover. */
export interface CommandBody {
  readonly filer: string;
  readonly force: boolean;
}

export function parseCommandBody(body: Buffer): CommandBody {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8')) as unknown;
  } catch (error) {
    throw new HttpRefusal(400, `body is not JSON (${error instanceof Error ? error.message : String(error)}); expected {"filer": NAME}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpRefusal(400, `body: expected a JSON object {"filer": NAME}, found ${describe(value)}`);
  }
  const fields = value as Record<string, unknown>;
  const unknown = Object.keys(fields).find((key) => key !== 'filer' && key !== 'force');
  if (unknown !== undefined) throw new HttpRefusal(400, `body.${unknown}: unknown key (known: filer, force)`);
  const { filer, force } = fields;
  if (filer === undefined) throw new HttpRefusal(400, 'body.filer: missing');
  if (typeof filer !== 'string' || filer === '') throw new HttpRefusal(400, `body.filer: expected a filer name, found ${describe(filer)}`);
  if (force !== undefined && typeof force !== 'boolean') throw new HttpRefusal(400, `body.force: expected true or false, found ${describe(force)}`);
  return { filer, force: force === true };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return value === '' ? 'an empty string' : JSON.stringify(value);
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}
