// The admin API's credential: a bearer token derived from the cluster's shared secret, so every
// node (and the `tandem` command, which reads the same configuration) knows it without another
// file to distribute. Layer: admin. Derived with HMAC-SHA256 under a fixed label, so the token
// reveals nothing about the secret that also keys the interconnect, and a new label version
// gives new tokens.

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** The HMAC message that names what the derived key is for. */
export const ADMIN_TOKEN_LABEL = 'tandem-admin-v1';

/** The admin token for a cluster: hex HMAC-SHA256(secret, ADMIN_TOKEN_LABEL). */
export function adminToken(secret: Buffer): string {
  return createHmac('sha256', secret).update(ADMIN_TOKEN_LABEL).digest('hex');
}

/**
 * Whether an `Authorization` header carries exactly `Bearer <token>`. The comparison takes the
 * same time wherever the first difference lies: both sides are hashed to equal lengths first,
 * so not even the presented token's length leaks through timing.
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  if (header === undefined) return false;
  const found = /^Bearer ([^\s]+)$/i.exec(header); // RFC 7235 2.1: the scheme is case-insensitive
  if (found === null) return false;
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(found[1]!), digest(token));
}
