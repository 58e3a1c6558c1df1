export * from './types/oauth.js';
export * from './types/auth-server.js';
export * from './errors.js';
export * from './handlers/handle-bearer-auth.js';
export { type OperationScopesConfig } from './handlers/operations.js';
export {
  fetchServerConfig,
  fetchServerConfigByWellKnownUrl,
  serverMetadataPaths,
  type ServerMetadataConfig,
  type ServerDiscoveryConfig,
} from './utils/fetch-server-config.js';
export * from './utils/validate-server-config.js';
export {
  createVerifyJwt,
  type VerifyAccessTokenFunction,
  type MaybePromise,
  type RemoteJwkSetOptions,
  type VerifyJwtKeyInput,
} from './utils/create-verify-jwt.js';
export { type Logger } from './logger.js';
export { clearCaches } from './utils/clear-caches.js';
export type { JWK, JWTVerifyGetKey, JWTVerifyOptions } from './types/jose.js';
export { type ResourceServerConfig } from './types/resource-server.js';
export {
  MCPAuth,
  type MCPAuthConfig,
  type VerifyAccessTokenMode,
  type AuthServerModeConfig,
  type ResourceServerModeConfig,
  type VerifyJwtConfig,
  type IntrospectionConfig,
  type IntrospectionAuthMethod,
  type VerifyIntrospectionConfig,
  type AudienceConfig,
  type TokenVerifierConfig,
  type FetchBearerAuth,
} from './mcp-auth.js';
export { type McpTokenVerifier, type TokenVerifierSdk } from './handlers/token-verifier.js';
export { type DpopConfig, type DpopMode, type DpopRouteConfig } from './handlers/dpop.js';
export { answerHeaders, withAnswerHeaders } from './handlers/web.js';
