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
  response: NativeResponse;
  pending?: undefined;
};

/**
 * Core's answer to a refused request: `challenges` are the `WWW-Authenticate` lines one by
 * one (`wwwAuthenticate` is them joined), `headers` the other headers to send (`DPoP-Nonce`).
 */
export type NativeResponse = {
  status: number;
  body: unknown;
  wwwAuthenticate?: string | null;
  challenges?: string[];
  headers?: Array<[string, string]>;
};

export type NativeOutcome =
  | string
  | { pending: true; ok?: undefined }
  | {
      ok: true;
      authInfo: AuthInfo;
      operations?: unknown[];
      headers?: Array<[string, string]>;
      pending?: undefined;
    }
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
  unknown?,
  Array<[string, string]>?,
  (string | null)?,
];

/**
 * The `AuthInfo` of a success text; `token` is the one the caller verified when the text does
 * not carry it. Keys come in the order napi's object has them (`auth_info_js` in convert.rs).
 */
export const authInfoFromText = (text: string, token?: string): AuthInfo =>
  fromFields(JSON.parse(text) as Fields, token);

const fromFields = (fields: Fields, token?: string): AuthInfo => {
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
  // A DPoP route's text (`checked_outcome` in convert.rs) ends with the headers and `jkt`.
  if (fields.length > 10 && fields[10] !== null) {
    info.jkt = fields[10];
  }
  return info;
};

/**
 * A DPoP route's success: the `AuthInfo` and the headers for the application's answer;
 * `undefined` for any other outcome.
 */
export const acceptedOf = (
  outcome: NativeOutcome
): { authInfo: AuthInfo; headers: Array<[string, string]> } | undefined => {
  if (typeof outcome === 'string') {
    const fields = JSON.parse(outcome) as Fields;
    return { authInfo: fromFields(fields), headers: fields[9] ?? [] };
  }
  return outcome.ok ? { authInfo: outcome.authInfo, headers: outcome.headers ?? [] } : undefined;
};

/** The `AuthInfo` of a successful outcome, whichever form it came in; `undefined` otherwise. */
export const authInfoOf = (outcome: NativeOutcome, token?: string): AuthInfo | undefined => {
  if (typeof outcome === 'string') {
    return authInfoFromText(outcome, token);
  }
  return outcome.ok ? outcome.authInfo : undefined;
};
