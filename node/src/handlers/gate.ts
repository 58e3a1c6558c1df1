/**
 * One authentication decision for one request, whatever framework the request came through.
 *
 * Every adapter (Express `bearerAuth` / `handleBearerAuth`, the web-standard
 * `fetchBearerAuth`, Hono, Fastify, the MCP SDK's `OAuthTokenVerifier`) builds a {@link Gate}
 * and converts its request into a {@link GateInput} and the gate's answer into its own
 * response. What is decided (header, token, issuer, audience, scopes, per-operation rules) is
 * decided by core; a gate only sequences the native calls and asks its host for the body when
 * core says it needs it.
 */
import { type AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';

import { defaultLogger, type Logger } from '../logger.js';
import type * as native from '../native.js';
import { awaitNative, errorToNative } from '../native-errors.js';
import {
  acceptedOf,
  authInfoOf,
  type NativeFailure,
  type NativeOutcome,
} from '../native-outcome.js';
import { type VerifyAccessTokenFunction } from '../utils/create-verify-jwt.js';

import { logNotices, type Failure } from './bearer-response.js';
import { type DpopParts } from './dpop.js';
import type { McpRequestInput, RequestAuthInput } from '../../native/index.js';

/** What a gate reads of a request besides its body. */
export type GateInput = {
  /** The `Authorization` header as sent (several fields joined with `", "`). */
  header: string | undefined;
  /** Method and the MCP headers per-operation rules read. */
  request: Omit<McpRequestInput, 'body'>;
  /** On a route with DPoP ({@link Gate.dpop}): its proofs and the raw request path. */
  dpop?: DpopParts;
};

/** The body bytes a host read for a decision, with whatever the host wants to keep about them. */
export type BodyRead = { bytes?: Buffer };

/**
 * Reads at most `limit` bytes of the request body; `undefined` when the client went away
 * before sending it (the request is then dropped without an answer).
 */
export type ReadBody<B extends BodyRead> = (limit: number) => Promise<B | undefined>;

export type Decision<B extends BodyRead> = (
  | {
      ok: true;
      authInfo: AuthInfo;
      /** Headers for the application's answer (`DPoP-Nonce`). */
      headers?: Array<[string, string]>;
    }
  | Failure
) & {
  /** The body the decision was made on, when one was read. */
  body?: B;
};

export type Gate = {
  /** `undefined` when the client went away while sending the body. */
  decide<B extends BodyRead>(
    input: GateInput,
    readBody: ReadBody<B>
  ): Promise<Decision<B> | undefined>;
  /**
   * The decision for a request judged by its header alone, made without waiting: present when
   * the gate can (core's modes without per-operation rules); `undefined` from it when keys or
   * metadata must be fetched first (then call `decide`). Hosts call it first so that a request
   * with cached keys costs no promise.
   */
  now?: (
    header: string | undefined,
    dpop?: DpopParts,
    method?: string
  ) => Decision<never> | undefined;
  /**
   * The route checks DPoP: hosts pass its parts of the request (`GateInput.dpop`, and `now`'s
   * `dpop` and `method`), and add a success's `headers` to the application's answer.
   */
  dpop?: boolean;
  /** Where this route's failures are reported (the route's, or the `MCPAuth` one). */
  logger: Logger | undefined;
};

/** Reports a refused request: core's reason, never the token or the body. */
export const reportFailure = (failure: Failure, logger: Logger | undefined, path?: string) => {
  const { status } = failure.response;
  const { kind, code, message, details } = failure.error;
  const meta = { status, kind, code, reason: message, cause: details?.cause, path };
  if (status >= 500) {
    (logger ?? defaultLogger).error?.(`Bearer auth failed on the server side: ${code}`, meta);
  } else {
    logger?.debug?.(`Bearer auth rejected the request: ${code}`, meta);
  }
};

const isPending = (outcome: NativeOutcome) => typeof outcome !== 'string' && outcome.pending;

/** A settled native outcome as a decision. */
const decision = <B extends BodyRead>(outcome: NativeOutcome): Decision<B> => {
  const authInfo = authInfoOf(outcome);
  return authInfo ? { ok: true, authInfo } : (outcome as NativeFailure);
};

/** A DPoP route's settled outcome as a decision. */
const checked = <B extends BodyRead>(outcome: NativeOutcome): Decision<B> => {
  const accepted = acceptedOf(outcome);
  return accepted ? { ok: true, ...accepted } : (outcome as NativeFailure);
};

const noProofs: DpopParts = { proofs: [], path: '' };

/**
 * The `'jwt'` and `'introspection'` modes: header to decision in core, I/O on its runtime.
 * A route with DPoP settings (`dpopNow`: the tests' pinned clock) is checked as a whole
 * request by `checkRequest`; the others keep the header-only calls.
 */
export const nativeGate = (
  authenticator: native.NativeAuthenticator,
  withOperations: boolean,
  logger: Logger | undefined,
  dpop?: { now?: number }
): Gate => {
  if (dpop) {
    return dpopGate(authenticator, withOperations, logger, dpop.now);
  }
  return {
    logger,
    now: withOperations
      ? undefined
      : (header) => {
          const outcome = authenticator.authenticateNow(header) as NativeOutcome;
          return isPending(outcome) ? undefined : decision<never>(outcome);
        },
    async decide<B extends BodyRead>(
      { header, request }: GateInput,
      readBody: ReadBody<B>
    ): Promise<Decision<B> | undefined> {
      if (!withOperations) {
        let outcome = authenticator.authenticateNow(header) as NativeOutcome;
        if (isPending(outcome)) {
          outcome = (await awaitNative(authenticator.authenticate(header))) as NativeOutcome;
          // Key fetches, the only source of notices, happen on this path alone.
          logNotices(logger);
        }
        return decision(outcome);
      }
      // Without credentials the answer is 401 whatever the body says: it is not read.
      const limit =
        header === undefined
          ? null
          : authenticator.bodyLimit(request.method, request.contentLength);
      const body = limit === null ? undefined : await readBody(limit);
      if (limit !== null && !body) {
        return undefined;
      }
      const input = { ...request, body: body?.bytes };
      let outcome = authenticator.authenticateRequestNow(header, input) as NativeOutcome;
      if (isPending(outcome)) {
        outcome = (await awaitNative(
          authenticator.authenticateRequest(header, input)
        )) as NativeOutcome;
        logNotices(logger);
      }
      const authInfo = authInfoOf(outcome);
      return authInfo ? { ok: true, authInfo, body } : { ...(outcome as NativeFailure), body };
    },
  };
};

const dpopGate = (
  authenticator: native.NativeAuthenticator,
  withOperations: boolean,
  logger: Logger | undefined,
  now: number | undefined
): Gate => {
  const credentials = (header: string | undefined, parts: DpopParts = noProofs) =>
    ({ authorization: header, dpop: parts.proofs, path: parts.path, now }) as RequestAuthInput;
  const check = async (auth: RequestAuthInput, input: McpRequestInput) => {
    let outcome = authenticator.checkRequestNow(auth, input) as NativeOutcome;
    if (isPending(outcome)) {
      outcome = (await awaitNative(authenticator.checkRequest(auth, input))) as NativeOutcome;
      logNotices(logger);
    }
    return outcome;
  };
  return {
    logger,
    dpop: true,
    now: withOperations
      ? undefined
      : (header, parts, method = 'GET') => {
          const outcome = authenticator.checkRequestNow(credentials(header, parts), {
            method,
          }) as NativeOutcome;
          return isPending(outcome) ? undefined : checked<never>(outcome);
        },
    async decide<B extends BodyRead>(
      { header, request, dpop: parts }: GateInput,
      readBody: ReadBody<B>
    ): Promise<Decision<B> | undefined> {
      const auth = credentials(header, parts);
      if (!withOperations) {
        return checked(await check(auth, request));
      }
      const limit =
        header === undefined
          ? null
          : authenticator.bodyLimit(request.method, request.contentLength);
      const body = limit === null ? undefined : await readBody(limit);
      if (limit !== null && !body) {
        return undefined;
      }
      return { ...checked<B>(await check(auth, { ...request, body: body?.bytes })), body };
    },
  };
};

/**
 * A user's verifier: core parses the header, the verifier checks the token, core decides
 * (issuer, audience, scopes, and the operations of the body read after the token passed).
 */
export const verifierGate = ({
  verifyAccessToken,
  policy,
  customIssuerCheck,
  withOperations,
  logger,
}: {
  verifyAccessToken: VerifyAccessTokenFunction;
  policy: native.NativePolicy;
  customIssuerCheck?: (issuer: string) => void;
  withOperations: boolean;
  logger: Logger | undefined;
}): Gate => ({
  logger,
  async decide<B extends BodyRead>(
    { header, request }: GateInput,
    readBody: ReadBody<B>
  ): Promise<Decision<B> | undefined> {
    const parsed = policy.parseHeader(header) as { ok: true; token: string } | Failure;
    if (!parsed.ok) {
      return parsed;
    }
    let body: B | undefined;
    try {
      const authInfo = await verifyAccessToken(parsed.token);
      customIssuerCheck?.(authInfo.issuer);
      if (!withOperations) {
        return (policy.check(authInfo) as Failure | null) ?? { ok: true, authInfo };
      }
      const limit = policy.bodyLimit(request.method, request.contentLength);
      body = limit === null ? undefined : await readBody(limit);
      if (limit !== null && !body) {
        return undefined;
      }
      const failure = policy.decide(authInfo, { ...request, body: body?.bytes }) as Failure | null;
      return failure === null ? { ok: true, authInfo, body } : { ...failure, body };
    } catch (error: unknown) {
      const shape = errorToNative(error);
      if (!shape) {
        throw error;
      }
      return { ok: false, error: shape, response: policy.respond(shape), body } as Decision<B>;
    }
  },
});

/** How the adapters reach an `MCPAuth`'s gates and documents (not part of the public API). */
export const gateFor = Symbol('mcp-auth.gateFor');
export const metadataDocuments = Symbol('mcp-auth.metadataDocuments');
