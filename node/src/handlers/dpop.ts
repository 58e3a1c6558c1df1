/**
 * DPoP (RFC 9449) on `bearerAuth`: the `dpop` option users write (camelCase) to the one
 * snake_case shape core reads (`DpopOptions::from_json`, which checks every value), and the
 * parts of a request a DPoP check reads. What a proof must be is decided by core alone.
 */
import type { IncomingMessage } from 'node:http';

import { MCPAuthConfigError } from '../errors.js';
import * as native from '../native.js';
import { callNative } from '../native-errors.js';

/** How a route treats DPoP. */
export type DpopMode = 'allowed' | 'required' | 'off';

/** The `dpop` option of `bearerAuth` (the `'jwt'` and `'introspection'` modes). */
export type DpopConfig = {
  /**
   * `'allowed'` (default): bearer tokens and DPoP-bound tokens with a proof are both accepted,
   * and a 401 offers both schemes. `'required'`: only DPoP-bound tokens with a proof.
   * `'off'`: bearer only. A token bound to a key (`cnf.jkt`) is refused as a bearer token in
   * every mode.
   */
  mode?: DpopMode;
  /** Proof signature algorithms (RFC 7518 names); default every asymmetric one core supports. */
  algorithms?: string[];
  /** How far a proof's `iat` may be from now, either way, in seconds (plus `leeway`). Default 300. */
  iatWindow?: number;
  /** Clock skew tolerated on top of `iatWindow`, in seconds; default the token's `clockTolerance`. */
  leeway?: number;
  /**
   * Server nonces on (RFC 9449 §8): proofs must carry a `nonce` this route issued, sealed under
   * this secret (at least 32 bytes). Every answer carries a fresh `DPoP-Nonce`. Each route
   * (or each instance behind a load balancer) that shares nonces needs the same secret.
   */
  nonceSecret?: string;
  /** Same as `nonceSecret`. */
  nonce?: string;
  /** How long a nonce stays valid, in seconds. Default 300. */
  nonceWindow?: number;
  /**
   * Where seen proof ids (`jti`) are kept to refuse replays: `'memory'` (default, this
   * process) or a Redis URL (`redis://host:6379/0`, `rediss://...`) shared by every instance.
   */
  replayStore?: 'memory' | `redis://${string}` | `rediss://${string}` | (string & {});
  /** Live entries the in-process store holds at most (default 100000). */
  replayMaxEntries?: number;
  /** Time limit of every Redis call, in milliseconds (default 1000). */
  replayTimeoutMs?: number;
  /** Same as `replayTimeoutMs`. */
  replayTimeout?: number;
  /**
   * Accept proofs unrecorded when Redis cannot answer. Default false: the request is refused
   * with 503 `temporarily_unavailable`.
   */
  replayFailOpen?: boolean;
  /** Prefix of the Redis keys (default `mcp-auth:dpop:`). */
  replayKeyPrefix?: string;
};

/** The `dpop` option of a route. */
export type DpopRouteConfig = {
  /** DPoP for this route (RFC 9449): sender-constrained tokens, checked proofs, replay and nonces. */
  dpop?: DpopConfig;
};

/**
 * "Now" in seconds for the DPoP checks of a route (`iat`, nonces, replay), for tests that
 * replay proofs made at a fixed time: a symbol, so no user option can set it.
 *
 * @internal
 */
export const dpopTestNow = Symbol('mcp-auth.dpopTestNow');

const names: Record<string, string> = {
  mode: 'mode',
  algorithms: 'algorithms',
  iatWindow: 'iat_window',
  leeway: 'leeway',
  nonceSecret: 'nonce_secret',
  nonce: 'nonce_secret',
  nonceWindow: 'nonce_window',
  replayStore: 'replay_store',
  replayMaxEntries: 'replay_max_entries',
  replayTimeoutMs: 'replay_timeout_ms',
  replayTimeout: 'replay_timeout_ms',
  replayFailOpen: 'replay_fail_open',
  replayKeyPrefix: 'replay_key_prefix',
};

const invalid = (message: string) => new MCPAuthConfigError('invalid_dpop_config', message);

/**
 * `config` in core's snake_case shape with the route's `resource`; unknown option names, and
 * an option given under both of its names, are refused here, values by core.
 */
export const nativeDpop = (
  config: unknown,
  resource: string | undefined
): { options: Record<string, unknown>; now?: number } => {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw invalid(
      '`dpop` must be an object such as `{ mode: "required" }` (the options are ' +
        `${Object.keys(names)
          .map((k) => `\`${k}\``)
          .join(', ')}).`
    );
  }
  if (!resource) {
    throw invalid(
      "DPoP needs the route's `resource`: a proof's `htu` is checked against its origin and the request path."
    );
  }
  const options: Record<string, unknown> = { resource };
  const given: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    const name = Object.hasOwn(names, key) ? names[key] : undefined;
    if (name === undefined) {
      throw invalid(
        `Unknown \`dpop\` option \`${key}\`; the options are ${Object.keys(names)
          .map((k) => `\`${k}\``)
          .join(', ')}.`
      );
    }
    if (value === undefined) {
      continue;
    }
    if (given[name] !== undefined) {
      throw invalid(`\`dpop.${given[name]}\` and \`dpop.${key}\` are the same option: give one.`);
    }
    given[name] = key;
    options[name] = value;
  }
  const now = (config as { [dpopTestNow]?: number })[dpopTestNow];
  return { options, now };
};

/** What a DPoP check reads of a request besides `Authorization` and the method. */
export type DpopParts = {
  /** Every `DPoP` field line, in order. */
  proofs: string[];
  /** The request target as sent (path and query, still percent-encoded). */
  path: string;
};

const none: string[] = [];

/**
 * Every `DPoP` header line of a Node request: `req.headers` joins repeated lines, which would
 * hide a second proof from core, so the raw lines are read.
 */
export const nodeDpopParts = (req: IncomingMessage, path: string): DpopParts => {
  const raw = req.rawHeaders;
  let proofs = none;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length === 4 && raw[i].toLowerCase() === 'dpop') {
      proofs = proofs === none ? [raw[i + 1]] : [...proofs, raw[i + 1]];
    }
  }
  return { proofs, path };
};

/**
 * The `DPoP` lines of a web `Headers`, which joins them with `", "`: a proof (a compact JWS)
 * never holds a comma, so each comma-separated part was a line of its own.
 */
export const webDpopProofs = (headers: Headers): string[] => {
  const joined = headers.get('dpop');
  return joined === null ? none : joined.split(',').map((p) => p.trim());
};

/**
 * When `nonce` was issued by a route with the DPoP settings `config` of `resource` (seconds
 * since the epoch), `undefined` when it is not one of theirs: for tests and diagnostics.
 *
 * @internal
 */
export const dpopNonceIssuedAt = (
  config: DpopConfig,
  resource: string,
  nonce: string
): number | undefined => {
  const authenticator = callNative(
    () =>
      new native.NativeAuthenticator({
        servers: [],
        policy: {},
        dpop: nativeDpop(config, resource).options,
      })
  );
  return authenticator.dpopNonceIssuedAt(nonce) ?? undefined;
};
