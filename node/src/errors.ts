import { errorDescription } from './native.js';

/** The `Error.cause` option, set without relying on the runtime's support for it. */
const withCause = (error: Error, cause: unknown) => {
  if (cause !== undefined) {
    Object.defineProperty(error, 'cause', {
      value: cause,
      writable: true,
      enumerable: false,
      configurable: true,
    });
  }
};

/** `condObject`: drops keys whose value is falsy. */
const compact = (object: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(object).filter(([, v]) => Boolean(v)));

export class MCPAuthError extends Error {
  name = 'MCPAuthError';

  constructor(
    public readonly code: string,
    message: string
  ) {
    super(message);
  }

  /** The error as JSON (camelCase); `cause` only when asked for. */
  toJson(showCause = false): Record<string, unknown> {
    return compact({
      error: this.code,
      errorDescription: this.message,
      cause: showCause && this.cause,
    });
  }
}

export class MCPAuthConfigError extends MCPAuthError {
  name = 'MCPAuthConfigError';
}

export type AuthServerErrorCode =
  'invalid_server_metadata' | 'invalid_server_config' | 'missing_jwks_uri';

const catalog = <C extends string>(kind: string, codes: readonly C[]) =>
  Object.freeze(
    Object.fromEntries(codes.map((code) => [code, errorDescription(kind, code)])) as Record<
      C,
      string
    >
  );

export const authServerErrorDescription: Readonly<Record<AuthServerErrorCode, string>> = catalog(
  'auth_server',
  ['invalid_server_metadata', 'invalid_server_config', 'missing_jwks_uri'] as const
);

export class MCPAuthAuthServerError extends MCPAuthError {
  name = 'MCPAuthAuthServerError';

  constructor(
    public readonly code: AuthServerErrorCode,
    cause?: unknown
  ) {
    super(code, authServerErrorDescription[code] ?? errorDescription('auth_server', String(code)));
    withCause(this, cause);
  }
}

export type BearerAuthErrorCode =
  | 'missing_auth_header'
  | 'invalid_auth_header_format'
  | 'missing_bearer_token'
  | 'invalid_issuer'
  | 'invalid_audience'
  | 'missing_required_scopes'
  | 'invalid_token';

export const bearerAuthErrorDescription: Readonly<Record<BearerAuthErrorCode, string>> = catalog(
  'bearer_auth',
  [
    'missing_auth_header',
    'invalid_auth_header_format',
    'missing_bearer_token',
    'invalid_issuer',
    'invalid_audience',
    'missing_required_scopes',
    'invalid_token',
  ] as const
);

export type MCPAuthBearerAuthErrorDetails = {
  cause?: unknown;
  uri?: URL;
  missingScopes?: string[];
  expected?: unknown;
  actual?: unknown;
};

export class MCPAuthBearerAuthError extends MCPAuthError {
  name = 'MCPAuthBearerAuthError';

  constructor(
    public readonly code: BearerAuthErrorCode,
    public readonly cause?: MCPAuthBearerAuthErrorDetails
  ) {
    super(code, bearerAuthErrorDescription[code] ?? errorDescription('bearer_auth', String(code)));
  }

  override toJson(showCause = false): Record<string, unknown> {
    return compact({
      ...super.toJson(showCause),
      errorUri: this.cause?.uri?.href,
      missingScopes: this.cause?.missingScopes,
    });
  }
}

export type MCPAuthTokenVerificationErrorCode = 'invalid_token' | 'token_verification_failed';

export const tokenVerificationErrorDescription: Readonly<
  Record<MCPAuthTokenVerificationErrorCode, string>
> = catalog('token_verification', ['invalid_token', 'token_verification_failed'] as const);

export class MCPAuthTokenVerificationError extends MCPAuthError {
  name = 'MCPAuthTokenVerificationError';

  constructor(
    public readonly code: MCPAuthTokenVerificationErrorCode,
    cause?: unknown
  ) {
    super(
      code,
      tokenVerificationErrorDescription[code] ??
        errorDescription('token_verification', String(code))
    );
    withCause(this, cause);
  }
}

/**
 * The name the bearer-auth documentation uses for token-verification failures;
 * `'jwt_verification_failed'` means `'token_verification_failed'`.
 *
 * @deprecated Use {@link MCPAuthTokenVerificationError}.
 */
export class MCPAuthJwtVerificationError extends MCPAuthTokenVerificationError {
  constructor(
    code: MCPAuthTokenVerificationErrorCode | 'jwt_verification_failed',
    cause?: unknown
  ) {
    super(code === 'jwt_verification_failed' ? 'token_verification_failed' : code, cause);
  }
}
