/**
 * What the native verification calls answer with.
 *
 * A success crosses as the JSON text of `[token, issuer, clientId, scopes, subject, audience,
 * expiresAt, claims, operations?]` (`auth_info_text` in bindings/node/src/convert.rs; `null`
 * for what is absent, `token` too when the caller passed it in): one `JSON.parse` builds the
 * `AuthInfo` several times faster than napi setting its properties one by one. Claims that JSON
 * would not carry as napi does (integers past 2^53, which napi makes BigInts, and `__proto__`
 * keys) come as `{ ok: true, authInfo }` instead, so users see the same values either way.
 */
import { type AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';

import { type NativeErrorShape } from './native-errors.js';

export type NativeFailure = {
  ok: false;
  error: NativeErrorShape;
  response: { status: number; body: unknown; wwwAuthenticate?: string | null };
  pending?: undefined;
};

export type NativeOutcome =
  | string
  | { pending: true; ok?: undefined }
  | { ok: true; authInfo: AuthInfo; operations?: unknown[]; pending?: undefined }
  | NativeFailure;

type Fields = [
  string | null,
  string,
  string,
  string[],
  string | null,
  string | string[] | null,
  number | null,
  Record<string, unknown>,
];

/**
 * The `AuthInfo` of a success text; `token` is the one the caller verified when the text does
 * not carry it. Keys come in the order napi's object has them (`auth_info_js` in convert.rs).
 */
export const authInfoFromText = (text: string, token?: string): AuthInfo => {
  const fields = JSON.parse(text) as Fields;
  const info = {
    token: fields[0] ?? token,
    issuer: fields[1],
    clientId: fields[2],
    scopes: fields[3],
  } as AuthInfo;
  if (fields[4] !== null) {
    info.subject = fields[4];
  }
  if (fields[5] !== null) {
    info.audience = fields[5];
  }
  if (fields[6] !== null) {
    info.expiresAt = fields[6];
  }
  info.claims = fields[7];
  return info;
};

/** The `AuthInfo` of a successful outcome, whichever form it came in; `undefined` otherwise. */
export const authInfoOf = (outcome: NativeOutcome, token?: string): AuthInfo | undefined => {
  if (typeof outcome === 'string') {
    return authInfoFromText(outcome, token);
  }
  return outcome.ok ? outcome.authInfo : undefined;
};
