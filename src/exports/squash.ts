// Maps an RPC caller onto the identity storage sees, by an export's client rule: root_squash
// maps uid 0 and gid 0 (also among the supplementary groups) to the anonymous ids, all_squash
// maps everyone, and a caller without AUTH_SYS credentials is anonymous (as Linux nfsd does).
// Layer: exports.

import type { Caller } from '../storage/types.js';
import type { Credential } from '../rpc/credentials.js';
import type { ClientRule } from './client-rules.js';

export function squashCaller(credential: Credential, rule: ClientRule): Caller {
  const anonymous: Caller = { uid: rule.anonUid, gid: rule.anonGid, gids: [] };
  if (credential.flavor !== 'sys' || rule.squash === 'all') return anonymous;
  if (rule.squash === 'none') return { uid: credential.uid, gid: credential.gid, gids: credential.gids };
  return {
    uid: credential.uid === 0 ? rule.anonUid : credential.uid,
    gid: credential.gid === 0 ? rule.anonGid : credential.gid,
    gids: credential.gids.map((gid) => (gid === 0 ? rule.anonGid : gid)),
  };
}
