/**
 * The shapes of jose's options and key resolvers that this package accepts, declared here so
 * that jose is not needed at run time. jose's own values (`createRemoteJWKSet(...)`, `KeyObject`s,
 * `CryptoKey`s, JWKs) fit them.
 */
import { type KeyObject, type webcrypto } from 'node:crypto';

/** A JSON Web Key. */
export type JWK = {
  kty?: string;
  kid?: string;
  alg?: string;
  use?: string;
  crv?: string;
  [parameter: string]: unknown;
};

/** jose `JWTVerifyOptions`. */
export type JWTVerifyOptions = {
  /** Accepted `alg` values. */
  algorithms?: string[];
  /** Expected `aud` (any of). */
  audience?: string | string[];
  /** Clock skew tolerated, in seconds or as text such as `"30s"`. Default 0. */
  clockTolerance?: number | string;
  /** Expected `iss` (any of). */
  issuer?: string | string[];
  /** Largest age of `iat`, in seconds or as text such as `"2h"`. */
  maxTokenAge?: number | string;
  /** Expected `sub`. */
  subject?: string;
  /** Expected `typ` header (`at+jwt` enforces RFC 9068). */
  typ?: string;
  /** The time to verify at. */
  currentDate?: Date;
  /** Claims that must be present. */
  requiredClaims?: string[];
};

/** A key a resolver may return. */
export type ResolvedKey = KeyObject | webcrypto.CryptoKey | Uint8Array | JWK;

/** jose's key resolver (`JWTVerifyGetKey`), for example the result of `createRemoteJWKSet`. */
export type JWTVerifyGetKey = (
  protectedHeader: Record<string, unknown> & { alg?: string; kid?: string },
  token: { payload: string; signature: string; protected?: string }
) => ResolvedKey | Promise<ResolvedKey>;
