/**
 * `mcpAuth.tokenVerifier(...)`: the MCP TypeScript SDK's own bearer gate
 * (`requireBearerAuth({ verifier })`, v1 `@modelcontextprotocol/sdk` and v2
 * `@modelcontextprotocol/server`) backed by the same decision as `bearerAuth`.
 *
 * The SDK hands the verifier the token only, so what needs the request (per-operation rules)
 * cannot be expressed here; the SDK maps the errors thrown to its answers, so failures are
 * thrown as the SDK's own error classes, picked by the answer core gives.
 */
import { type AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';

import { MCPAuthConfigError } from '../errors.js';
import { errorFromNative } from '../native-errors.js';

import { type Failure } from './bearer-response.js';
import { reportFailure, type Gate } from './gate.js';

/** Which SDK's `requireBearerAuth` the verifier is for: its error classes are thrown. */
export type TokenVerifierSdk = 'v1' | 'v2';

/** The SDK's `OAuthTokenVerifier` (the same in v1 and v2). */
export type McpTokenVerifier = {
  verifyAccessToken(token: string): Promise<AuthInfo>;
};

type Throwers = {
  invalidToken: (message: string) => Error;
  insufficientScope: (message: string) => Error;
  serverError: (message: string) => Error;
};

const sdkModules: Record<TokenVerifierSdk, string> = {
  v1: '@modelcontextprotocol/sdk/server/auth/errors.js',
  v2: '@modelcontextprotocol/server',
};

const loadThrowers = async (sdk: TokenVerifierSdk): Promise<Throwers> => {
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(sdkModules[sdk])) as Record<string, unknown>;
  } catch (error: unknown) {
    throw new MCPAuthConfigError(
      'invalid_token_verifier_config',
      `\`tokenVerifier({ sdk: '${sdk}' })\` throws the errors of \`${sdkModules[sdk]}\`, which cannot be loaded: ${
        error instanceof Error ? error.message : String(error)
      }`
    );
  }
  if (sdk === 'v2') {
    const { OAuthError, OAuthErrorCode } = loaded as {
      OAuthError: new (code: string, message: string) => Error;
      OAuthErrorCode: Record<'InvalidToken' | 'InsufficientScope' | 'ServerError', string>;
    };
    return {
      invalidToken: (m) => new OAuthError(OAuthErrorCode.InvalidToken, m),
      insufficientScope: (m) => new OAuthError(OAuthErrorCode.InsufficientScope, m),
      serverError: (m) => new OAuthError(OAuthErrorCode.ServerError, m),
    };
  }
  type ErrorClass = new (message: string) => Error;
  const { InvalidTokenError, InsufficientScopeError, ServerError } = loaded as Record<
    'InvalidTokenError' | 'InsufficientScopeError' | 'ServerError',
    ErrorClass
  >;
  return {
    invalidToken: (m) => new InvalidTokenError(m),
    insufficientScope: (m) => new InsufficientScopeError(m),
    serverError: (m) => new ServerError(m),
  };
};

/** The SDK error for core's answer: 403 scope shortfall, 5xx server side, otherwise 401. */
const sdkError = (throwers: Throwers, failure: Failure): Error => {
  const { status, body } = failure.response;
  const description = (body as { error_description?: unknown } | null)?.error_description;
  const message =
    typeof description === 'string' ? description : (failure.error.message ?? failure.error.code);
  const error =
    status === 403
      ? throwers.insufficientScope(message)
      : status >= 500
        ? throwers.serverError(message)
        : throwers.invalidToken(message);
  // The package's own error (code, details) for whoever logs or inspects it.
  Object.defineProperty(error, 'cause', {
    value: errorFromNative(failure.error),
    configurable: true,
    writable: true,
  });
  return error;
};

/**
 * An `OAuthTokenVerifier` over `gate`. `audience` is the one the gate checks (exactly): the
 * token's matching `aud`, reported as `AuthInfo.resource`.
 */
export const sdkTokenVerifier = (
  gate: Gate,
  sdk: TokenVerifierSdk,
  audience: string
): McpTokenVerifier => {
  // Loaded now, so that the first refusal is not slower than the others.
  const throwers = loadThrowers(sdk);
  throwers.catch(() => undefined);
  const resource = URL.canParse(audience) ? new URL(audience) : undefined;
  return {
    async verifyAccessToken(token: string): Promise<AuthInfo> {
      // No per-operation rules reach a token verifier, so the request is never read.
      const result = await gate.decide(
        { header: `Bearer ${token}`, request: { method: 'GET' } },
        async () => undefined
      );
      if (result?.ok) {
        return resource ? { ...result.authInfo, resource } : result.authInfo;
      }
      const failure = result as Failure;
      reportFailure(failure, gate.logger);
      throw sdkError(await throwers, failure);
    },
  };
};
