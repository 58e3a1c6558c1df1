import { type CamelCaseAuthorizationServerMetadata } from './oauth.js';

export type AuthServerType = 'oauth' | 'oidc';

/** An authorization server whose metadata is known. */
export type ResolvedAuthServerConfig = {
  /** The metadata, camelCase. */
  metadata: CamelCaseAuthorizationServerMetadata;
  type: AuthServerType;
};

/** An authorization server whose metadata is fetched on first use (and cached). */
export type AuthServerDiscoveryConfig = {
  issuer: string;
  /**
   * Leave it out to try the OAuth path-inserted, OIDC path-inserted and OIDC path-appended
   * metadata URLs in that order (MCP 2025-11-25).
   */
  type?: AuthServerType;
};

export type AuthServerConfig = ResolvedAuthServerConfig | AuthServerDiscoveryConfig;

/** The issuer of a resolved or a discovery config. */
export const getIssuer = (config: AuthServerConfig): string =>
  'metadata' in config ? config.metadata.issuer : config.issuer;
