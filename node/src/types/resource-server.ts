import { type AuthServerConfig } from './auth-server.js';
import { type CamelCaseProtectedResourceMetadata } from './oauth.js';

/** One protected resource: its RFC 9728 metadata with the trusted authorization servers. */
export type ResourceServerConfig = {
  metadata: Omit<CamelCaseProtectedResourceMetadata, 'authorizationServers'> & {
    authorizationServers?: AuthServerConfig[];
  };
};
