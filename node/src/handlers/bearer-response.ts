import { type AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { Request, Response } from 'express';

import { defaultLogger, type Logger } from '../logger.js';
import { type NativeErrorShape } from '../native-errors.js';
import { type NativeResponse } from '../native-outcome.js';

import { reportFailure } from './gate.js';

import { type ValidateIssuerFunction } from './handle-bearer-auth.js';

import * as native from '../native.js';

/** The issuers an issuer validator made by this package trusts, for core's policy. */
export const trustedIssuers = Symbol('mcp-auth.trustedIssuers');

/**
 * Set by `MCPAuth#bearerAuth` when the audience is the resource identifier because none was
 * configured: refusals then say which audience was expected.
 */
export const audienceFromResource = Symbol('mcp-auth.audienceFromResource');

/** Logs what core found worth saying once (a key server publishing a private key, say). */
export const logNotices = (logger: Logger | undefined) => {
  for (const notice of native.takeNotices()) {
    (logger ?? defaultLogger).warn?.(notice);
  }
};

export type IssuerValidator = ValidateIssuerFunction & { [trustedIssuers]?: string[] };

export type Failure = {
  ok: false;
  error: NativeErrorShape;
  response: NativeResponse;
};

/**
 * The `WWW-Authenticate` lines of an answer: each challenge on a line of its own (a DPoP
 * route's 401 offers `DPoP` and `Bearer`), or the one joined value.
 */
export const challengeLines = (response: NativeResponse): string[] | undefined => {
  const { challenges, wwwAuthenticate } = response;
  if (challenges && challenges.length > 0) {
    return challenges;
  }
  return wwwAuthenticate ? [wwwAuthenticate] : undefined;
};

/** Sends core's answer to a failed authentication. */
export const sendFailure = (
  res: Response,
  failure: Failure,
  logger: Logger | undefined,
  req: Request
) => {
  reportFailure(failure, logger, req.path);
  const { status, body, headers } = failure.response;
  const challenges = challengeLines(failure.response);
  if (challenges) {
    res.set('WWW-Authenticate', challenges.length === 1 ? challenges[0] : challenges);
  }
  for (const [name, value] of headers ?? []) {
    res.set(name, value);
  }
  res.status(status).json(body);
};

export const attachAuth = (req: Request, authInfo: AuthInfo, logger: Logger | undefined) => {
  if (req.auth) {
    (logger ?? defaultLogger).warn?.(
      'Request already contains auth info and will be overwritten. Please double-check if this is intended.'
    );
  }
  req.auth = authInfo;
};
