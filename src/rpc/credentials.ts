// Credentials of an RPC call (RFC 5531 8.2 and 14): AUTH_NONE and AUTH_SYS. Layer: rpc.
// Any other flavor, or an AUTH_SYS body that breaks its own XDR limits, is refused with
// AUTH_ERROR/AUTH_BADCRED, as the Linux server does (svc_authenticate); the verifier that
// accompanies AUTH_NONE and AUTH_SYS must itself be AUTH_NONE, or the call gets AUTH_BADVERF.

import { XdrReader, XdrDecodeError } from '../xdr/index.js';
import {
  AUTH_SYS_GIDS_MAX,
  AUTH_SYS_MACHINE_NAME_BYTES_MAX,
  auth_flavor,
  auth_stat,
  type AuthStat,
} from './constants.js';

export type Credential =
  | { readonly flavor: 'none' }
  | {
      readonly flavor: 'sys';
      readonly stamp: number;
      readonly machineName: string;
      readonly uid: number;
      readonly gid: number;
      readonly gids: readonly number[];
    };

export const NO_CREDENTIAL: Credential = { flavor: 'none' };

/** The credential carried by (flavor, body), or the auth_stat that refuses it. */
export function parseCredential(flavor: number, body: Buffer, verifierFlavor: number): Credential | AuthStat {
  if (flavor === auth_flavor.AUTH_NONE) {
    return verifierFlavor === auth_flavor.AUTH_NONE ? NO_CREDENTIAL : auth_stat.AUTH_BADVERF;
  }
  if (flavor !== auth_flavor.AUTH_SYS) return auth_stat.AUTH_BADCRED;
  if (verifierFlavor !== auth_flavor.AUTH_NONE) return auth_stat.AUTH_BADVERF;
  try {
    const reader = new XdrReader(body);
    const stamp = reader.uint32();
    const machineName = reader.string(AUTH_SYS_MACHINE_NAME_BYTES_MAX);
    const uid = reader.uint32();
    const gid = reader.uint32();
    const count = reader.arrayLength(AUTH_SYS_GIDS_MAX);
    const gids: number[] = [];
    for (let i = 0; i < count; i++) gids.push(reader.uint32());
    reader.end('authsys_parms');
    return { flavor: 'sys', stamp, machineName, uid, gid, gids };
  } catch (error) {
    if (error instanceof XdrDecodeError) return auth_stat.AUTH_BADCRED;
    throw error;
  }
}
