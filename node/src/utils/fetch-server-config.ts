import * as native from '../native.js';
import { awaitNative, callNative } from '../native-errors.js';
import { type AuthServerType, type ResolvedAuthServerConfig } from '../types/auth-server.js';
import { type AuthorizationServerMetadata } from '../types/oauth.js';

import { camelCaseKeys } from './case.js';

type MaybePromise<T> = T | Promise<T>;

export type ServerMetadataConfig = {
  type: AuthServerType;
  /**
   * Rewrites the fetched (snake_case) metadata before it is parsed; may be async.
   */
  transpileData?: (
    data: object
  ) => MaybePromise<AuthorizationServerMetadata | Record<string, unknown>>;
  /**
   * RFC 8414 §3.3: the fetched `issuer` must equal the issuer it was fetched for. Default
   * `true`; set `false` for providers known to publish another value.
   */
  checkIssuer?: boolean;
  /** Timeout of the whole request, in milliseconds (default 10 000). */
  timeout?: number;
  /** Extra request headers. */
  headers?: Record<string, string>;
};

/** Metadata-document paths of the two server types. */
export const serverMetadataPaths = Object.freeze({
  oauth: '/.well-known/oauth-authorization-server',
  oidc: '/.well-known/openid-configuration',
} as const);

/** The metadata URL of an issuer: RFC 8414 inserts the well-known path, OIDC appends it. */
export const getWellKnownUrl = (issuer: string, type: AuthServerType): string =>
  callNative(() => native.wellKnownUrl(issuer, type));

/**
 * The metadata URLs tried, in order, when an issuer's type is not known (the MCP
 * authorization spec's discovery order).
 */
export const getDiscoveryUrls = (issuer: string): Array<[string, AuthServerType]> =>
  callNative(
    () => native.discoveryUrls(issuer) as Array<{ url: string; type: AuthServerType }>
  ).map(({ url, type }) => [url, type]);

const fetchAndParse = async (
  url: string,
  { type, transpileData, checkIssuer, timeout, headers }: ServerMetadataConfig,
  expectedIssuer: string | undefined
): Promise<ResolvedAuthServerConfig> => {
  const raw = await awaitNative<Record<string, unknown>>(
    native.fetchMetadataJson(url, { timeout, headers })
  );
  const data: unknown = transpileData ? await transpileData(raw) : raw;
  const metadata = callNative<Record<string, unknown>>(() =>
    native.parseServerMetadata(data, type, checkIssuer === false ? undefined : expectedIssuer)
  );
  return {
    metadata: camelCaseKeys(metadata) as ResolvedAuthServerConfig['metadata'],
    type,
  };
};

/**
 * Fetches an authorization server's metadata from a given well-known URL.
 *
 * @throws {MCPAuthConfigError} `fetch_server_config_error` when the request fails.
 * @throws {MCPAuthAuthServerError} `invalid_server_metadata` when the document is invalid.
 */
export const fetchServerConfigByWellKnownUrl = async (
  wellKnownUrl: string | URL,
  config: ServerMetadataConfig
): Promise<ResolvedAuthServerConfig> => fetchAndParse(String(wellKnownUrl), config, undefined);

/** Options of {@link fetchServerConfig}: as {@link ServerMetadataConfig}, with `type` optional. */
export type ServerDiscoveryConfig = Omit<ServerMetadataConfig, 'type'> & {
  /**
   * `oauth` (RFC 8414) or `oidc` (OpenID Connect Discovery). Leave it out to try, in order, the
   * OAuth path-inserted, OIDC path-inserted and OIDC path-appended URLs (MCP 2025-11-25); the
   * result's `type` says which one answered.
   */
  type?: AuthServerType;
};

const discover = async (
  issuer: string,
  { transpileData, checkIssuer, timeout, headers }: ServerDiscoveryConfig
): Promise<ResolvedAuthServerConfig> => {
  // The raw document first, so that `transpileData` can rewrite it before it is parsed.
  const { raw, type } = await awaitNative<{ raw: Record<string, unknown>; type: AuthServerType }>(
    native.discoverMetadataJson(issuer, undefined, { timeout, headers })
  );
  const data: unknown = transpileData ? await transpileData(raw) : raw;
  const metadata = callNative<Record<string, unknown>>(() =>
    native.parseServerMetadata(data, type, checkIssuer === false ? undefined : issuer)
  );
  return { metadata: camelCaseKeys(metadata) as ResolvedAuthServerConfig['metadata'], type };
};

/**
 * Fetches an authorization server's metadata from its issuer: RFC 8414 or OpenID Connect
 * Discovery depending on `type`, or, without a type, the MCP discovery order.
 *
 * @throws {MCPAuthConfigError} `fetch_server_config_error` when the request fails (without a
 * type: when no candidate URL has the document).
 * @throws {MCPAuthAuthServerError} `invalid_server_metadata` when the document is invalid or
 * names another issuer.
 *
 * @example
 * const authServerConfig = await fetchServerConfig('https://auth.logto.io/oidc', { type: 'oidc' });
 * const discovered = await fetchServerConfig('https://auth.example.com/tenant'); // discovered.type
 */
export function fetchServerConfig(
  issuer: string,
  config: ServerMetadataConfig
): Promise<ResolvedAuthServerConfig>;
export function fetchServerConfig(
  issuer: string,
  config?: ServerDiscoveryConfig
): Promise<ResolvedAuthServerConfig>;
export async function fetchServerConfig(
  issuer: string,
  config: ServerDiscoveryConfig = {}
): Promise<ResolvedAuthServerConfig> {
  const { type } = config;
  if (type === undefined) {
    return discover(issuer, config);
  }
  return fetchAndParse(getWellKnownUrl(issuer, type), { ...config, type }, issuer);
}
