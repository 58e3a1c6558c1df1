/**
 * Per-operation rules on `bearerAuth` / `handleBearerAuth`: the option names users write
 * (camelCase) to the one snake_case shape core reads (`OperationConfig::from_json`), which
 * checks every value. Only the option names are converted: tool names, URI templates and
 * scopes pass unchanged.
 */
import { type AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';

import { MCPAuthConfigError } from '../errors.js';

import { type Failure } from './bearer-response.js';

/** Scopes per tool, resource, prompt and JSON-RPC method, on top of `requiredScopes`. */
export type OperationScopesConfig = {
  /**
   * `tools/call` of a tool needs these scopes (tool name -> scopes; names compared exactly).
   * A request that lacks one is answered 403 `insufficient_scope` before the MCP handler runs,
   * with every scope the request needs in the challenge.
   */
  toolScopes?: Record<string, string[]>;
  /**
   * `resources/read` of a URI needs these scopes (an exact URI or an RFC 6570 level-1
   * template such as `notes://{id}`; every matching rule counts).
   */
  resourceScopes?: Record<string, string[]>;
  /** `prompts/get` of a prompt needs these scopes (prompt name -> scopes). */
  promptScopes?: Record<string, string[]>;
  /** Any message with this JSON-RPC method needs these scopes (e.g. `resources/list`). */
  methodScopes?: Record<string, string[]>;
  /**
   * Broader scopes that imply narrower ones (`{ 'notes:admin': ['notes:write'] }`), closed
   * transitively, for every scope check of the route, `requiredScopes` included.
   */
  scopeHierarchy?: Record<string, string[]>;
  /**
   * How many bytes of a POST body are read to decide (default 4 MiB); larger bodies are
   * answered 413 without reading further.
   */
  maxBodyBytes?: number;
};

const names: Record<keyof OperationScopesConfig, string> = {
  toolScopes: 'tool_scopes',
  resourceScopes: 'resource_scopes',
  promptScopes: 'prompt_scopes',
  methodScopes: 'method_scopes',
  scopeHierarchy: 'scope_hierarchy',
  maxBodyBytes: 'max_body_bytes',
};

export const operationOptionNames = Object.keys(names) as Array<keyof OperationScopesConfig>;

/**
 * Refuses option names the function does not know, so that a misspelt rule (`toolScope`,
 * `tool_scopes`) is an error when the route is built instead of an unprotected tool.
 */
export const refuseUnknownOptions = (
  what: string,
  config: object,
  known: readonly string[]
): void => {
  const unknown = Object.keys(config).filter(
    (key) => !known.includes(key) && !(operationOptionNames as string[]).includes(key)
  );
  if (unknown.length > 0) {
    throw new MCPAuthConfigError(
      'invalid_operation_rules',
      `Unknown \`${what}\` option${unknown.length > 1 ? 's' : ''} ${unknown
        .map((k) => `\`${k}\``)
        .join(', ')}; the per-operation options are ${operationOptionNames
        .map((k) => `\`${k}\``)
        .join(', ')}.`
    );
  }
};

/** The per-operation options of `config` in core's shape; `undefined` when none is set. */
export const nativeOperations = (config: OperationScopesConfig): unknown => {
  const entries = operationOptionNames
    .filter((key) => config[key] !== undefined)
    .map((key) => [names[key], config[key]]);
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
};

/** The options `handleBearerAuth` reads besides the per-operation ones. */
export const bearerAuthOptionNames = [
  'verifyAccessToken',
  'issuer',
  'audience',
  'requiredScopes',
  'resource',
  'showErrorDetails',
  'logger',
] as const;

/** Core's answer for a request checked with per-operation rules. */
export type RequestOutcome =
  | { pending: true; ok?: undefined }
  | { ok: true; authInfo: AuthInfo; operations: unknown[]; pending?: undefined }
  | (Failure & { pending?: undefined });
