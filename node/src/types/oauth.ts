import { z } from 'zod';

import { camelCase } from '../utils/case.js';

const camelCaseShape = <T extends z.ZodRawShape>(shape: T) =>
  Object.fromEntries(Object.entries(shape).map(([k, v]) => [camelCase(k), v])) as {
    [K in keyof T as K extends string ? CamelCase<K> : K]: T[K];
  };

type CamelCase<S extends string> = S extends `${infer H}_${infer T}`
  ? `${H}${Capitalize<CamelCase<T>>}`
  : S;

/** RFC 8414 authorization-server metadata: the fields MCP servers use (snake_case). */
const authorizationServerMetadataObject = Object.freeze({
  issuer: z.string(),
  authorization_endpoint: z.string(),
  token_endpoint: z.string(),
  jwks_uri: z.string().optional(),
  registration_endpoint: z.string().optional(),
  scopes_supported: z.array(z.string()).optional(),
  response_types_supported: z.array(z.string()),
  response_modes_supported: z.array(z.string()).optional(),
  grant_types_supported: z.array(z.string()).optional(),
  token_endpoint_auth_methods_supported: z.array(z.string()).optional(),
  token_endpoint_auth_signing_alg_values_supported: z.array(z.string()).optional(),
  service_documentation: z.string().optional(),
  ui_locales_supported: z.array(z.string()).optional(),
  op_policy_uri: z.string().optional(),
  op_tos_uri: z.string().optional(),
  revocation_endpoint: z.string().optional(),
  revocation_endpoint_auth_methods_supported: z.array(z.string()).optional(),
  revocation_endpoint_auth_signing_alg_values_supported: z.array(z.string()).optional(),
  introspection_endpoint: z.string().optional(),
  introspection_endpoint_auth_methods_supported: z.array(z.string()).optional(),
  introspection_endpoint_auth_signing_alg_values_supported: z.array(z.string()).optional(),
  code_challenge_methods_supported: z.array(z.string()).optional(),
  userinfo_endpoint: z.string().optional(),
});

/** Zod schema of OAuth 2.0 Authorization Server Metadata (RFC 8414). */
export const authorizationServerMetadataSchema = z.object(authorizationServerMetadataObject);

export type AuthorizationServerMetadata = z.infer<typeof authorizationServerMetadataSchema>;

/** The camelCase version of {@link authorizationServerMetadataSchema}. */
export const camelCaseAuthorizationServerMetadataSchema = z.object(
  camelCaseShape(authorizationServerMetadataObject)
);

export type CamelCaseAuthorizationServerMetadata = z.infer<
  typeof camelCaseAuthorizationServerMetadataSchema
>;

/** RFC 8414 defaults of fields a server may omit. */
export const defaultValues: Readonly<Partial<CamelCaseAuthorizationServerMetadata>> = Object.freeze(
  {
    grantTypesSupported: ['authorization_code', 'implicit'],
    responseModesSupported: ['query', 'fragment'],
  }
);

/** RFC 9728 protected-resource metadata (snake_case). */
const protectedResourceMetadataObject = Object.freeze({
  resource: z.string(),
  authorization_servers: z.array(z.string()).optional(),
  jwks_uri: z.string().optional(),
  scopes_supported: z.array(z.string()).optional(),
  bearer_methods_supported: z.array(z.string()).optional(),
  resource_signing_alg_values_supported: z.array(z.string()).optional(),
  resource_name: z.string().optional(),
  resource_documentation: z.string().optional(),
  resource_policy_uri: z.string().optional(),
  resource_tos_uri: z.string().optional(),
  tls_client_certificate_bound_access_tokens: z.boolean().optional(),
  authorization_details_types_supported: z.array(z.string()).optional(),
  dpop_signing_alg_values_supported: z.array(z.string()).optional(),
  dpop_bound_access_tokens_required: z.boolean().optional(),
  signed_metadata: z.string().optional(),
});

/** Zod schema of OAuth 2.0 Protected Resource Metadata (RFC 9728). */
export const protectedResourceMetadataSchema = z.object(protectedResourceMetadataObject);

export type ProtectedResourceMetadata = z.infer<typeof protectedResourceMetadataSchema>;

/** The camelCase version of {@link protectedResourceMetadataSchema}. */
export const camelCaseProtectedResourceMetadataSchema = z.object(
  camelCaseShape(protectedResourceMetadataObject)
);

export type CamelCaseProtectedResourceMetadata = z.infer<
  typeof camelCaseProtectedResourceMetadataSchema
>;
