import { type AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { Request, Response } from 'express';

import { defaultLogger, type Logger } from '../logger.js';
import { type NativeErrorShape } from '../native-errors.js';

import { reportFailure } from './gate.js';

import { type ValidateIssuerFunction } from './handle-bearer-auth.js';

/** The issuers an issuer validator made by this package trusts, for core's policy. */
export const trustedIssuers = Symbol('mcp-auth.trustedIssuers');

export type IssuerValidator = ValidateIssuerFunction & { [trustedIssuers]?: string[] };

export type Failure = {
  ok: false;
  error: NativeErrorShape;
  response: { status: number; body: unknown; wwwAuthenticate?: string | null };
};

/** Sends core's answer to a failed authentication. */
export const sendFailure = (
  res: Response,
  failure: Failure,
  logger: Logger | undefined,
  req: Request
) => {
  reportFailure(failure, logger, req.path);
  const { status, body, wwwAuthenticate } = failure.response;
  if (wwwAuthenticate) {
    res.set('WWW-Authenticate', wwwAuthenticate);
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
