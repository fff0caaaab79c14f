// What READDIR and READDIRPLUS share (RFC 1813 3.3.16-17): the cookie verifier check, the '.'
// and '..' entries (cookies 1 and 2; storage's cookies start above them), and filling a reply
// up to the client's byte budget. Cookies are stable, so the verifier only tells a cookie of
// this directory from a cookie of something else: a wrong one is NFS3ERR_BAD_COOKIE; an all-zero
// one (clients that never kept it) is accepted.
import type { Attributes } from '../../storage/types.js';
import { StorageError } from '../../storage/types.js';
import { nfsstat3 } from '../constants.js';
import { NfsStatusError, type NfsRequest } from '../nfs-request.js';

const DOT_COOKIE = 1n;
const DOT_DOT_COOKIE = 2n;
/** Entries asked of storage at a time. */
export const DIRECTORY_PAGE_ENTRIES_MAX = 512;

export interface ListedEntry {
  readonly fileid: bigint;
  readonly name: string;
  readonly cookie: bigint;
  readonly attributes?: Attributes | undefined;
  readonly handle?: Buffer | undefined;
}

export interface Listing {
  readonly dirAttributes: Attributes;
  readonly cookieverf: Buffer;
  readonly entries: ListedEntry[];
  readonly eof: boolean;
}

/**
 * Lists `dirHandle` after `cookie`, taking entries while `take(entry)` accepts them (it keeps
 * the byte count); with `plus`, each entry carries its attributes and handle. NFS3ERR_TOOSMALL
 * when not even one entry fits and the directory has more.
 */
export function listDirectory(
  request: NfsRequest,
  dirHandle: Buffer,
  cookie: bigint,
  cookieverf: Buffer,
  plus: boolean,
  pageEntries: number,
  take: (entry: ListedEntry) => boolean,
): Listing {
  const { volume, caller } = request;
  const directory = request.fileid(dirHandle);
  const dirAttributes = volume.getattr(directory);
  if (dirAttributes.type !== 'dir') throw new NfsStatusError(nfsstat3.NFS3ERR_NOTDIR);
  const verifier = volume.cookieVerifier(directory);
  if (cookie !== 0n && !cookieverf.equals(verifier) && cookieverf.some((byte) => byte !== 0)) {
    throw new NfsStatusError(nfsstat3.NFS3ERR_BAD_COOKIE);
  }
  const limit = Math.max(1, Math.min(pageEntries, DIRECTORY_PAGE_ENTRIES_MAX));
  let page = volume.readdir(caller, directory, cookie > DOT_DOT_COOKIE ? cookie : 0n, limit, plus);
  const entries: ListedEntry[] = [];
  const offer = (entry: ListedEntry): boolean => {
    if (!take(entry)) return false;
    entries.push(entry);
    return true;
  };
  const done = (eof: boolean): Listing => {
    if (entries.length === 0 && !eof) throw new NfsStatusError(nfsstat3.NFS3ERR_TOOSMALL);
    return { dirAttributes, cookieverf: verifier, entries, eof };
  };
  if (cookie < DOT_COOKIE && !offer(dotEntry(request, directory, '.', DOT_COOKIE, plus, dirAttributes))) {
    return done(false);
  }
  if (cookie < DOT_DOT_COOKIE) {
    const parent = parentOf(request, directory);
    if (!offer(dotEntry(request, parent, '..', DOT_DOT_COOKIE, plus, undefined))) return done(false);
  }
  for (;;) {
    for (const entry of page.entries) if (!offer(entry)) return done(false);
    const last = page.entries.at(-1);
    if (page.eof || last === undefined) return done(true);
    page = volume.readdir(caller, directory, last.cookie, limit, plus);
  }
}

function dotEntry(
  request: NfsRequest,
  fileid: bigint,
  name: string,
  cookie: bigint,
  plus: boolean,
  known: Attributes | undefined,
): ListedEntry {
  if (!plus) return { fileid, name, cookie, attributes: undefined, handle: undefined };
  return { fileid, name, cookie, attributes: known ?? request.attributes(fileid), handle: request.volume.fileHandle(fileid) };
}

/** The parent directory; the directory itself when the caller may not search it. */
function parentOf(request: NfsRequest, directory: bigint): bigint {
  try {
    return request.volume.lookup(request.caller, directory, '..');
  } catch (error) {
    if (error instanceof StorageError) return directory;
    throw error;
  }
}
