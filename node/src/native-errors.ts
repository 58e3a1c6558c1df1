/**
 * The one place where errors cross the native boundary, in both directions.
 *
 * Core failures arrive as `{ kind, code, message, details }` (in a result object, or encoded in
 * the message of a thrown or rejected native error) and become the package's error classes;
 * the classes users throw from their verifiers go back as the same shape, so core answers them.
 */
import {
  MCPAuthAuthServerError,
  MCPAuthBearerAuthError,
  MCPAuthConfigError,
  MCPAuthError,
  MCPAuthTokenVerificationError,
  type AuthServerErrorCode,
  type BearerAuthErrorCode,
  type MCPAuthBearerAuthErrorDetails,
  type MCPAuthTokenVerificationErrorCode,
} from './errors.js';

/**
 * `request`: a body per-operation rules could not classify (answered 400/413/415 with a
 * JSON-RPC error by the middleware, never thrown at users).
 */
export type ErrorKind = 'auth_server' | 'config' | 'bearer_auth' | 'token_verification' | 'request';

export type NativeErrorShape = {
  kind: ErrorKind;
  code: string;
  message?: string;
  details?: {
    cause?: unknown;
    uri?: string;
    missingScopes?: string[];
    expected?: unknown;
    actual?: unknown;
  };
};

const marker = '$mcp-auth-error$';

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Upstream's JS errors carry `{ cause: text }` where core (and Python) say `error_description`. */
const authServerCause = (cause: unknown): unknown => {
  if (isObject(cause) && typeof cause.error_description === 'string') {
    const { error_description: text, ...rest } = cause;
    return { ...rest, cause: text };
  }
  return cause === undefined ? undefined : { cause };
};

/** A core error as the package's error class. */
export const errorFromNative = (shape: NativeErrorShape): MCPAuthError => {
  const details = shape.details ?? {};
  let error: MCPAuthError;
  switch (shape.kind) {
    case 'config': {
      error = new MCPAuthConfigError(shape.code, shape.message ?? shape.code);
      if (details.cause !== undefined) {
        Object.defineProperty(error, 'cause', { value: details.cause, writable: true });
      }
      return error;
    }
    case 'request': {
      return new MCPAuthError(shape.code, shape.message ?? shape.code);
    }
    case 'auth_server': {
      error = new MCPAuthAuthServerError(
        shape.code as AuthServerErrorCode,
        authServerCause(details.cause)
      );
      break;
    }
    case 'bearer_auth': {
      const { uri, ...rest } = details;
      const cause: MCPAuthBearerAuthErrorDetails = { ...rest };
      if (uri) {
        cause.uri = new URL(uri);
      }
      error = new MCPAuthBearerAuthError(
        shape.code as BearerAuthErrorCode,
        Object.keys(cause).length > 0 ? cause : undefined
      );
      break;
    }
    default: {
      error = new MCPAuthTokenVerificationError(
        shape.code as MCPAuthTokenVerificationErrorCode,
        details.cause
      );
    }
  }
  if (shape.message && shape.message !== error.message) {
    error.message = shape.message;
  }
  return error;
};

/** The shape inside a thrown native error, if it carries one. */
export const shapeOfNativeError = (error: unknown): NativeErrorShape | undefined => {
  if (error instanceof Error && error.message.startsWith(marker)) {
    try {
      return JSON.parse(error.message.slice(marker.length)) as NativeErrorShape;
    } catch {
      return undefined;
    }
  }
  return undefined;
};

/** Rebuilds a native error into the package's class; anything else is returned as is. */
export const rebuildError = (error: unknown): unknown => {
  const shape = shapeOfNativeError(error);
  return shape ? errorFromNative(shape) : error;
};

/** Runs a native call, rethrowing its errors as the package's classes. */
export const callNative = <T>(call: () => T): T => {
  try {
    return call();
  } catch (error: unknown) {
    throw rebuildError(error);
  }
};

/** Awaits a native promise, rejecting with the package's classes. */
export const awaitNative = async <T>(promise: Promise<T>): Promise<T> => {
  try {
    return await promise;
  } catch (error: unknown) {
    throw rebuildError(error);
  }
};

/** Something that survives JSON: causes go to core as data. */
const jsonable = (value: unknown): unknown => {
  if (value === undefined || value === null) {
    return undefined;
  }
  if (value instanceof Error) {
    return value.message;
  }
  if (value instanceof URL) {
    return value.href;
  }
  try {
    return JSON.parse(
      JSON.stringify(value, (_key, v: unknown) =>
        v instanceof Error ? v.message : v instanceof URL ? v.href : v
      )
    ) as unknown;
  } catch {
    return String(value);
  }
};

/** One of the package's errors as the shape core formats answers from; `undefined` otherwise. */
export const errorToNative = (error: unknown): NativeErrorShape | undefined => {
  if (error instanceof MCPAuthBearerAuthError) {
    const d = error.cause;
    return {
      kind: 'bearer_auth',
      code: error.code,
      message: error.message,
      details: d
        ? {
            cause: jsonable(d.cause),
            uri: d.uri?.href,
            missingScopes: d.missingScopes,
            expected: jsonable(d.expected),
            actual: jsonable(d.actual),
          }
        : {},
    };
  }
  const kind: ErrorKind | undefined =
    error instanceof MCPAuthTokenVerificationError
      ? 'token_verification'
      : error instanceof MCPAuthAuthServerError
        ? 'auth_server'
        : error instanceof MCPAuthConfigError
          ? 'config'
          : undefined;
  if (!kind || !(error instanceof MCPAuthError)) {
    return undefined;
  }
  return {
    kind,
    code: error.code,
    message: error.message,
    details: { cause: jsonable(error.cause) },
  };
};
