/**
 * Protected-resource metadata (RFC 9728) as plain answers, for the adapters that are not
 * Express (web-standard `Request`, Hono, Fastify): the same documents, at the same paths, with
 * the CORS answers the Express router gets from the `cors` package's defaults.
 */
import * as native from '../native.js';
import { callNative } from '../native-errors.js';
import { type CamelCaseProtectedResourceMetadata } from '../types/oauth.js';
import { snakeCaseKeysDeep } from '../utils/case.js';
import { resourceMetadataPath } from '../utils/create-resource-metadata-endpoint.js';

/** One resource's metadata document and the path it is served at. */
export type MetadataDocument = { path: string; readonly document: Record<string, unknown> };

/**
 * The document of `metadata`. `dpopRoute` names the route whose DPoP settings the document
 * advertises (`dpop_signing_alg_values_supported`, `dpop_bound_access_tokens_required`, by
 * core's `with_dpop_fields`); it is asked on every read, because routes are usually made
 * after the metadata router is mounted.
 */
export const metadataDocument = (
  metadata: CamelCaseProtectedResourceMetadata,
  dpopRoute?: () => native.NativeAuthenticator | undefined
): MetadataDocument => {
  const { authorizationServers, ...fields } = metadata;
  const path = resourceMetadataPath(metadata.resource);
  const snake = snakeCaseKeysDeep(fields) as Record<string, unknown>;
  const build = (route: native.NativeAuthenticator | undefined) =>
    callNative(() =>
      native.protectedResourceMetadata(
        route ? route.withDpopFields(snake) : snake,
        authorizationServers ?? []
      )
    ) as Record<string, unknown>;
  let route = dpopRoute?.();
  let document = build(route);
  return {
    path,
    get document() {
      const current = dpopRoute?.();
      if (current !== route) {
        route = current;
        document = build(current);
      }
      return document;
    },
  };
};

/** A framework-neutral HTTP answer. */
export type PlainAnswer = {
  status: number;
  headers: Record<string, string>;
  /** JSON text, or `undefined` for an empty body. */
  body?: string;
};

/** What the `cors` package answers a preflight with by default, so every adapter agrees. */
const preflightHeaders = (requestHeaders: string | undefined | null): Record<string, string> => ({
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET,HEAD,PUT,PATCH,POST,DELETE',
  ...(requestHeaders
    ? { 'access-control-allow-headers': requestHeaders, vary: 'Access-Control-Request-Headers' }
    : {}),
  'content-length': '0',
});

/**
 * The answer to `method` on `pathname` if it is a metadata path: 200 with the document (GET,
 * HEAD), 204 to a CORS preflight (OPTIONS); `undefined` for any other request.
 */
export const metadataAnswer = (
  documents: MetadataDocument[],
  method: string,
  pathname: string,
  accessControlRequestHeaders?: string | null
): PlainAnswer | undefined => {
  const found = documents.find(({ path }) => path === pathname);
  if (!found) {
    return undefined;
  }
  if (method === 'OPTIONS') {
    return { status: 204, headers: preflightHeaders(accessControlRequestHeaders) };
  }
  if (method !== 'GET' && method !== 'HEAD') {
    return undefined;
  }
  return {
    status: 200,
    headers: {
      'access-control-allow-origin': '*',
      'content-type': 'application/json; charset=utf-8',
    },
    body: JSON.stringify(found.document),
  };
};
