import { KeyObject, createPublicKey, webcrypto } from 'node:crypto';

import { type AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';

import { MCPAuthTokenVerificationError } from '../errors.js';
import { logNotices } from '../handlers/bearer-response.js';
import * as native from '../native.js';
import { type JWK, type JWTVerifyGetKey, type JWTVerifyOptions } from '../types/jose.js';
import { callNative, errorFromNative } from '../native-errors.js';
import {
  authInfoOf,
  authInfoFromText,
  type NativeFailure,
  type NativeOutcome,
} from '../native-outcome.js';

export type MaybePromise<T> = T | Promise<T>;

/** Verifies a token and returns who it belongs to; may be sync or async. */
export type VerifyAccessTokenFunction = (token: string) => MaybePromise<AuthInfo>;

type NativeVerifier = InstanceType<typeof native.NativeJwtVerifier>;

type NativeJwtOptions = ReturnType<typeof nativeJwtOptions>;

const units: Record<string, number> = {
  s: 1,
  sec: 1,
  secs: 1,
  second: 1,
  seconds: 1,
  m: 60,
  min: 60,
  mins: 60,
  minute: 60,
  minutes: 60,
  h: 3600,
  hr: 3600,
  hrs: 3600,
  hour: 3600,
  hours: 3600,
  d: 86_400,
  day: 86_400,
  days: 86_400,
  w: 604_800,
  week: 604_800,
  weeks: 604_800,
  y: 31_557_600,
  yr: 31_557_600,
  yrs: 31_557_600,
  year: 31_557_600,
  years: 31_557_600,
};

/** jose's time spans: a number of seconds or text such as `"30s"` or `"2 minutes"`. */
export const seconds = (value: number | string | undefined): number | undefined => {
  if (value === undefined) {
    return undefined;
  }
  if (typeof value === 'number') {
    return value;
  }
  const match = /^(\d+|\d+\.\d+) ?([a-z]+)$/i.exec(value.trim());
  const unit = match && units[match[2]!.toLowerCase()];
  if (!match || !unit) {
    throw new TypeError(`Invalid time period format: ${value}`);
  }
  return Number(match[1]) * unit;
};

/** jose `JWTVerifyOptions` as core's JWT options. */
export const nativeJwtOptions = (options: JWTVerifyOptions = {}) => ({
  algorithms: options.algorithms,
  clockTolerance: seconds(options.clockTolerance),
  // jose's `typ`: any required header type (`at+jwt` is RFC 9068's).
  typ: options.typ,
  now: options.currentDate ? options.currentDate.getTime() / 1000 : undefined,
  issuer: options.issuer,
  audience: options.audience,
  subject: options.subject,
  requiredClaims: options.requiredClaims,
  maxTokenAge: seconds(options.maxTokenAge),
});

const settle = (outcome: NativeOutcome, token: string): AuthInfo => {
  const info = authInfoOf(outcome, token);
  if (info) {
    return info;
  }
  throw errorFromNative((outcome as NativeFailure).error);
};

/** Verifies with a native verifier: synchronously when keys are at hand. */
const verifyWith = (verifier: NativeVerifier, token: string): MaybePromise<AuthInfo> => {
  const now = verifier.verifyNow(token) as NativeOutcome;
  if (typeof now === 'string') {
    return authInfoFromText(now, token);
  }
  if (!now.pending) {
    return settle(now, token);
  }
  // Key fetches, the only source of notices, happen on this path alone.
  return (verifier.verify(token) as Promise<NativeOutcome>).then((later) => {
    logNotices(undefined);
    return settle(later, token);
  });
};

type CryptoKey = webcrypto.CryptoKey;

type KeyInput = JWK | { keys: JWK[] } | Uint8Array | KeyObject | CryptoKey;

const CryptoKeyClass = (globalThis as { CryptoKey?: new () => unknown }).CryptoKey;

const isCryptoKey = (key: unknown): key is CryptoKey =>
  CryptoKeyClass !== undefined && key instanceof CryptoKeyClass;

/**
 * A key as a native verifier; private keys verify with their public half. A key given on its
 * own (not in a set) verifies whatever `kid` the token names, as jose does.
 */
const verifierForKey = (key: KeyInput, jwt: NativeJwtOptions): NativeVerifier => {
  if (key instanceof Uint8Array) {
    // Core refuses short secrets and bytes that are a public key (PEM, OpenSSH, DER, a JWK).
    return callNative(() => native.NativeJwtVerifier.fromSecret(key, jwt));
  }
  if (key instanceof KeyObject || isCryptoKey(key)) {
    const object = key instanceof KeyObject ? key : KeyObject.from(key);
    if (object.type === 'secret') {
      return callNative(() => native.NativeJwtVerifier.fromSecret(object.export(), jwt));
    }
    const publicKey = object.type === 'private' ? createPublicKey(object) : object;
    return callNative(() =>
      native.NativeJwtVerifier.fromJwks(publicKey.export({ format: 'jwk' }), jwt)
    );
  }
  if (typeof key === 'object' && key !== null && ('keys' in key || 'kty' in key)) {
    return callNative(() => native.NativeJwtVerifier.fromJwks(key, jwt));
  }
  throw new TypeError(
    'Unsupported key: expected a JWK, a JWK Set, a KeyObject, a CryptoKey or a Uint8Array.'
  );
};

const decodePart = (part: string | undefined): Record<string, unknown> | undefined => {
  try {
    const value: unknown = JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
};

/**
 * A jose-style key resolver (for example the result of jose's `createRemoteJWKSet`): its URL is
 * not visible, so each token's key is resolved by the function and then checked natively. This
 * is slower than passing the JWKS URL itself.
 */
const verifierFromGetKey = (
  getKey: JWTVerifyGetKey,
  options: JWTVerifyOptions | undefined
): VerifyAccessTokenFunction => {
  const jwt = nativeJwtOptions(options);
  const byKey = new WeakMap<object, NativeVerifier>();
  // Malformed tokens get core's answer: an empty key set never verifies, it only explains.
  const malformed = native.NativeJwtVerifier.fromJwks({ keys: [] }, jwt);
  return async (token: string) => {
    const [header, payload, signature] = token.split('.');
    const protectedHeader = decodePart(header);
    if (!protectedHeader || payload === undefined || signature === undefined) {
      return verifyWith(malformed, token);
    }
    let key: unknown;
    try {
      key = await getKey(protectedHeader as Parameters<JWTVerifyGetKey>[0], {
        payload,
        signature,
        protected: header,
      });
    } catch (error: unknown) {
      const code =
        typeof error === 'object' && error !== null && 'code' in error
          ? String((error as { code: unknown }).code)
          : 'JWT_VERIFICATION_FAILED';
      throw new MCPAuthTokenVerificationError('invalid_token', { code, cause: error });
    }
    const cacheable = typeof key === 'object' && key !== null;
    let verifier = cacheable ? byKey.get(key as object) : undefined;
    if (!verifier) {
      verifier = verifierForKey(key as KeyInput, jwt);
      if (cacheable) {
        byKey.set(key as object, verifier);
      }
    }
    return verifyWith(verifier, token);
  };
};

/** Options for JWKS URLs (jose `RemoteJWKSetOptions`, in milliseconds). */
export type RemoteJwkSetOptions = {
  timeoutDuration?: number;
  cooldownDuration?: number;
  /** The longest keys count as fresh; a key server's `Cache-Control: max-age` can only shorten it. */
  cacheMaxAge?: number;
  /**
   * How long known keys keep verifying past their freshness while the key server fails.
   * Default 24 hours; past it, verification fails until a fetch succeeds.
   */
  maxStaleDuration?: number;
  headers?: Record<string, string>;
};

export type VerifyJwtKeyInput = JWTVerifyGetKey | string | URL | KeyInput;

/**
 * A function that verifies JWT access tokens and returns their `AuthInfo`.
 *
 * `getKey` may be a JWKS URL (string or `URL`; fetched and cached), a JWK Set, a single JWK, an
 * HMAC secret (`Uint8Array`), a `KeyObject`/`CryptoKey`, or any jose key resolver such as
 * `createRemoteJWKSet(url)` (slower: the resolver runs for each token). `options` are jose's
 * `JWTVerifyOptions` (`algorithms`, `clockTolerance`, `issuer`, `audience`, `typ`, `currentDate`).
 *
 * Failures throw `MCPAuthTokenVerificationError` (`invalid_token`).
 */
export const createVerifyJwt = (
  getKey: VerifyJwtKeyInput,
  options?: JWTVerifyOptions,
  remoteJwkSet?: RemoteJwkSetOptions
): VerifyAccessTokenFunction => {
  if (typeof getKey === 'function') {
    return verifierFromGetKey(getKey as JWTVerifyGetKey, options);
  }
  const jwt = nativeJwtOptions(options);
  if (typeof getKey === 'string' || getKey instanceof URL) {
    const verifier = callNative(() =>
      native.NativeJwtVerifier.remote(String(getKey), remoteJwkSet, jwt)
    );
    return (token: string) => verifyWith(verifier, token);
  }
  const verifier = verifierForKey(getKey, jwt);
  return (token: string) => verifyWith(verifier, token);
};
