/**
 * Fastify: protected-resource metadata as a plugin and the bearer guard as a `preParsing`
 * hook, over the same decision as Express's `bearerAuth`. The guard runs before Fastify parses
 * the body, so per-operation rules see the bytes as sent; it hands Fastify the same bytes to
 * parse. The caller is `request.auth` (and `request.raw.auth`, where the MCP SDK's Node
 * transport looks for it).
 *
 * @example
 * import { bearerAuth, protectedResourceMetadata } from 'mcp-auth/fastify';
 *
 * await app.register(protectedResourceMetadata(mcpAuth));
 * app.post('/mcp', { preParsing: bearerAuth(mcpAuth, 'jwt', { resource, audience: resource }) },
 *   async (request, reply) => { reply.hijack(); await transport.handleRequest(request.raw, reply.raw, request.body); });
 */
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';

import { type AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type {
  FastifyPluginCallback,
  FastifyReply,
  FastifyRequest,
  preParsingHookHandler,
} from 'fastify';

import { challengeLines } from './handlers/bearer-response.js';
import { nodeDpopParts, type DpopRouteConfig } from './handlers/dpop.js';
import { gateFor, metadataDocuments, reportFailure, type Gate } from './handlers/gate.js';
import { type BearerAuthConfig } from './handlers/handle-bearer-auth.js';
import { mcpRequest } from './handlers/request-body.js';
import {
  type MCPAuth,
  type VerifyAccessTokenMode,
  type VerifyIntrospectionConfig,
  type VerifyJwtConfig,
} from './mcp-auth.js';
import { metadataAnswer } from './routers/metadata.js';
import { type VerifyAccessTokenFunction } from './utils/create-verify-jwt.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who made the request, set by `mcp-auth/fastify`'s `bearerAuth`. */
    auth?: AuthInfo;
  }
}

type RouteConfig = Omit<BearerAuthConfig, 'verifyAccessToken' | 'issuer'>;

/**
 * A plugin serving each protected resource's RFC 9728 metadata (GET/HEAD, and the CORS
 * preflight) at its well-known path. It is not encapsulated: the routes are the app's.
 */
export const protectedResourceMetadata = (mcpAuth: MCPAuth): FastifyPluginCallback => {
  const documents = mcpAuth[metadataDocuments]();
  const plugin: FastifyPluginCallback = (fastify, _options, done) => {
    for (const document of documents) {
      const handler = (request: FastifyRequest, reply: FastifyReply) => {
        const answer = metadataAnswer(
          [document],
          request.method,
          document.path,
          request.headers['access-control-request-headers'] as string | undefined
        )!;
        void reply.code(answer.status).headers(answer.headers).send(answer.body);
      };
      // find-my-way reads `:` as a parameter; `::` is a literal one.
      const url = document.path.replace(/:/g, '::');
      fastify.get(url, handler);
      fastify.options(url, handler);
    }
    done();
  };
  return Object.assign(plugin, {
    [Symbol.for('skip-override')]: true,
    [Symbol.for('fastify.display-name')]: 'mcp-auth-protected-resource-metadata',
  });
};

type StreamBody = { bytes?: Buffer; complete: boolean };

/** At most `limit` bytes of `payload`; `undefined` when the client went away. */
const readPayload = (payload: Readable, limit: number): Promise<StreamBody | undefined> =>
  new Promise((resolve) => {
    if (limit === 0) {
      // Content-Length already says it is too large: nothing is read.
      resolve({ complete: false });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (result: StreamBody | undefined) => {
      payload.off('data', onData);
      payload.off('end', onEnd);
      payload.off('error', onGone);
      payload.off('close', onGone);
      resolve(result);
    };
    function onData(chunk: Buffer | string) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      chunks.push(b);
      size += b.length;
      if (size >= limit) {
        // Too large whatever follows: core answers 413 from these bytes.
        payload.pause();
        finish({ bytes: Buffer.concat(chunks, size).subarray(0, limit), complete: false });
      }
    }
    function onEnd() {
      finish({ bytes: Buffer.concat(chunks, size), complete: true });
    }
    function onGone() {
      finish(undefined);
    }
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onGone);
    payload.on('close', onGone);
  });

/** The bytes read for the decision, as the stream Fastify parses next. */
const replay = (bytes: Buffer, payload: Readable) =>
  Object.assign(Readable.from(bytes.length > 0 ? [bytes] : []), {
    receivedEncodedLength:
      (payload as Readable & { receivedEncodedLength?: number }).receivedEncodedLength ??
      bytes.length,
  });

const guard = (gate: Gate): preParsingHookHandler =>
  // Callback style: a refusal answers and never calls `done`, so nothing after it runs.
  function mcpAuthBearerAuth(request, reply, payload, done) {
    gate
      .decide(
        {
          header: request.headers.authorization,
          request: mcpRequest(request.raw),
          dpop: gate.dpop ? nodeDpopParts(request.raw, request.raw.url ?? request.url) : undefined,
        },
        (limit) => readPayload(payload, limit)
      )
      .then((result) => {
        if (!result) {
          // The client went away while sending the body.
          return;
        }
        if (!result.ok) {
          reportFailure(result, gate.logger, request.url.split('?')[0]);
          const { status, body, headers } = result.response;
          const challenges = challengeLines(result.response);
          if (challenges) {
            void reply.header(
              'www-authenticate',
              challenges.length === 1 ? challenges[0] : challenges
            );
          }
          for (const [name, value] of headers ?? []) {
            void reply.header(name, value);
          }
          if (result.body && !result.body.complete) {
            // The rest of the body is not read: the connection cannot be reused.
            void reply.header('connection', 'close');
          }
          void reply
            .code(status)
            .type('application/json; charset=utf-8')
            .send(JSON.stringify(body));
          return;
        }
        for (const [name, value] of result.headers ?? []) {
          // On the raw answer: it also reaches a hijacked reply (the MCP SDK's transport).
          reply.raw.setHeader(name, value);
        }
        request.auth = result.authInfo;
        (request.raw as IncomingMessage & { auth?: AuthInfo }).auth = result.authInfo;
        done(null, result.body?.bytes ? replay(result.body.bytes, payload) : undefined);
      }, done);
  };

/**
 * Bearer auth for Fastify routes, as a `preParsing` hook (route option `preParsing`, or
 * `addHook('preParsing', ...)` in a scope), with `bearerAuth`'s modes and options
 * (per-operation rules included): refused requests get the same 401/403/400/413/415/500
 * answers; on success the caller is `request.auth`.
 */
export function bearerAuth(
  mcpAuth: MCPAuth,
  verifyAccessToken: VerifyAccessTokenFunction,
  config?: RouteConfig
): preParsingHookHandler;
export function bearerAuth(
  mcpAuth: MCPAuth,
  mode: VerifyAccessTokenMode,
  config?: RouteConfig & VerifyJwtConfig & DpopRouteConfig
): preParsingHookHandler;
export function bearerAuth(
  mcpAuth: MCPAuth,
  mode: 'introspection',
  config: RouteConfig & VerifyIntrospectionConfig & DpopRouteConfig
): preParsingHookHandler;
export function bearerAuth(
  mcpAuth: MCPAuth,
  modeOrVerify: VerifyAccessTokenFunction | VerifyAccessTokenMode | 'introspection',
  config: RouteConfig & VerifyJwtConfig & Partial<VerifyIntrospectionConfig> & DpopRouteConfig = {}
): preParsingHookHandler {
  return guard(mcpAuth[gateFor]('bearerAuth', modeOrVerify, config));
}
