import * as native from '../native.js';
import { type ResolvedAuthServerConfig } from '../types/auth-server.js';

import { snakeCaseKeysDeep } from './case.js';

export type AuthServerConfigErrorCode =
  | 'invalid_server_metadata'
  | 'code_response_type_not_supported'
  | 'authorization_code_grant_not_supported'
  | 'pkce_not_supported'
  | 's256_code_challenge_method_not_supported';

export type AuthServerConfigError = {
  code: AuthServerConfigErrorCode;
  description: string;
  cause?: unknown;
};

export type AuthServerConfigWarningCode = 'dynamic_registration_not_supported';

export type AuthServerConfigWarning = {
  code: AuthServerConfigWarningCode;
  description: string;
};

export type AuthServerSuccessCode =
  | 'server_metadata_valid'
  | 'dynamic_registration_supported'
  | 'pkce_supported'
  | 's256_code_challenge_method_supported'
  | 'authorization_code_grant_supported'
  | 'code_response_type_supported';

export type AuthServerSuccess = {
  code: AuthServerSuccessCode;
  description: string;
};

export type AuthServerConfigValidationResult = {
  isValid: boolean;
  errors?: AuthServerConfigError[];
  warnings: AuthServerConfigWarning[];
  successes?: AuthServerSuccess[];
};

type NativeFinding = { code: string; description: string; cause?: unknown };
type NativeResult = {
  is_valid: boolean;
  errors: NativeFinding[];
  warnings: NativeFinding[];
  successes: NativeFinding[];
};

const message = ({ code, description }: NativeFinding) => ({ code, description });

/**
 * Checks that an authorization server fits MCP: metadata schema, `code` response type,
 * `authorization_code` grant, PKCE with S256 (errors), dynamic client registration (warning).
 *
 * `isValid` is always present; `errors` only when there are some; `successes` when `verbose`.
 */
export function validateServerConfig(
  config: ResolvedAuthServerConfig,
  verbose?: boolean
): AuthServerConfigValidationResult {
  const result = native.validateServerMetadata(snakeCaseKeysDeep(config.metadata)) as NativeResult;
  return {
    isValid: result.is_valid,
    ...(result.errors.length > 0 && {
      errors: result.errors.map(
        (e) => ({ ...message(e), cause: e.cause }) as AuthServerConfigError
      ),
    }),
    warnings: result.warnings.map((w) => message(w) as AuthServerConfigWarning),
    ...(verbose === true && {
      successes: result.successes.map((s) => message(s) as AuthServerSuccess),
    }),
  };
}
