// Signing keys: one current key per algorithm plus retired keys that stay
// published until their grace period ends, so tokens signed before a rotation
// keep verifying while resource servers pick up the new kid.
import { generateKeyPairSync, randomBytes } from 'node:crypto';

const KEY_PARAMS = {
  RS256: ['rsa', { modulusLength: 2048 }],
  ES256: ['ec', { namedCurve: 'P-256' }],
};

export const SIGNING_ALGS = Object.keys(KEY_PARAMS);

function generate(alg) {
  const { privateKey } = generateKeyPairSync(...KEY_PARAMS[alg]);
  const kid = `${alg.toLowerCase()}-${randomBytes(6).toString('hex')}`;
  return { ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
}

export class KeyRing {
  #current = new Map(); // alg -> private JWK used for signing
  #retired = []; // { jwk, until } still published, never used for signing

  constructor() {
    for (const alg of SIGNING_ALGS) this.#current.set(alg, generate(alg));
  }

  kidFor(alg) {
    return this.#current.get(alg).kid;
  }

  /** Replaces the signing key of each given algorithm; returns the new and retired kids. */
  rotate(algs, graceSeconds) {
    const until = Date.now() + graceSeconds * 1000;
    const rotated = [];
    const retired = [];
    for (const alg of algs) {
      const old = this.#current.get(alg);
      const fresh = generate(alg);
      this.#current.set(alg, fresh);
      rotated.push({ alg, kid: fresh.kid });
      if (graceSeconds > 0) {
        this.#retired.push({ jwk: old, until });
        retired.push({ alg, kid: old.kid, published_until: new Date(until).toISOString() });
      }
    }
    return { rotated, retired };
  }

  /** Drops retired keys whose grace period is over; true when the set changed. */
  prune(now = Date.now()) {
    const before = this.#retired.length;
    this.#retired = this.#retired.filter(({ until }) => until > now);
    return this.#retired.length !== before;
  }

  /** Private JWKS for oidc-provider; current keys first so ID tokens use them too. */
  privateJwks() {
    return { keys: [...this.#current.values(), ...this.#retired.map(({ jwk }) => jwk)] };
  }

  describe() {
    return {
      signing: Object.fromEntries([...this.#current].map(([alg, jwk]) => [alg, jwk.kid])),
      retired: this.#retired.map(({ jwk, until }) => ({
        alg: jwk.alg, kid: jwk.kid, published_until: new Date(until).toISOString(),
      })),
    };
  }
}
