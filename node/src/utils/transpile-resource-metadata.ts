import { getIssuer } from '../types/auth-server.js';
import { type CamelCaseProtectedResourceMetadata } from '../types/oauth.js';
import { type ResourceServerConfig } from '../types/resource-server.js';

/** The configured metadata with `authorizationServers` as issuer strings (left out if none). */
export const transpileResourceMetadata = (
  metadata: ResourceServerConfig['metadata']
): CamelCaseProtectedResourceMetadata => {
  const { authorizationServers, ...rest } = metadata;
  const issuers = (authorizationServers ?? []).map((server) => getIssuer(server));
  return issuers.length > 0 ? { ...rest, authorizationServers: issuers } : rest;
};
