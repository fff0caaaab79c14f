// ONC RPC v2 wire constants (RFC 5531 section 9), RFC spelling, every number written out.
// accept_stat and reject_stat are separate enums on purpose: they live in different arms of
// the reply union and must never be confused (STYLE.md, "Errors").

export const RPC_VERSION = 2;

export const msg_type = { CALL: 0, REPLY: 1 } as const;

export const reply_stat = { MSG_ACCEPTED: 0, MSG_DENIED: 1 } as const;

export const accept_stat = {
  SUCCESS: 0,
  PROG_UNAVAIL: 1,
  PROG_MISMATCH: 2,
  PROC_UNAVAIL: 3,
  GARBAGE_ARGS: 4,
  SYSTEM_ERR: 5,
} as const;
export type AcceptStat = (typeof accept_stat)[keyof typeof accept_stat];

export const reject_stat = { RPC_MISMATCH: 0, AUTH_ERROR: 1 } as const;
export type RejectStat = (typeof reject_stat)[keyof typeof reject_stat];

export const auth_flavor = {
  AUTH_NONE: 0,
  AUTH_SYS: 1,
  AUTH_SHORT: 2,
  AUTH_DH: 3,
  RPCSEC_GSS: 6,
} as const;

export const auth_stat = {
  AUTH_OK: 0,
  AUTH_BADCRED: 1,
  AUTH_REJECTEDCRED: 2,
  AUTH_BADVERF: 3,
  AUTH_REJECTEDVERF: 4,
  AUTH_TOOWEAK: 5,
  AUTH_INVALIDRESP: 6,
  AUTH_FAILED: 7,
} as const;
export type AuthStat = (typeof auth_stat)[keyof typeof auth_stat];

/** RFC 5531 8.2: opaque_auth bodies are at most 400 bytes. */
export const AUTH_BODY_BYTES_MAX = 400;
/** RFC 5531 14 (authsys_parms): machinename<255>, gids<16>. */
export const AUTH_SYS_MACHINE_NAME_BYTES_MAX = 255;
export const AUTH_SYS_GIDS_MAX = 16;
