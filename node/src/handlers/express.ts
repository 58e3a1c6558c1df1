/**
 * The Express face of the gate, and the gate of users' verifiers (`handleBearerAuth`,
 * `bearerAuth(fn)`): internal, reached through `handleBearerAuth` and `MCPAuth`.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';

import * as native from '../native.js';
import { callNative } from '../native-errors.js';
import { createResourceMetadataEndpoint } from '../utils/create-resource-metadata-endpoint.js';

import {
  attachAuth,
  sendFailure,
  audienceFromResource,
  trustedIssuers,
  type IssuerValidator,
} from './bearer-response.js';
import { nodeDpopParts } from './dpop.js';
import { verifierGate, type Decision, type Gate } from './gate.js';
import { type BearerAuthConfig } from './handle-bearer-auth.js';
import { bearerAuthOptionNames, nativeOperations, refuseUnknownOptions } from './operations.js';
import {
  closeIfCut,
  decisionBody,
  keepBody,
  mcpRequest,
  type DecisionBody,
} from './request-body.js';

/**
 * The gate of a user's verifier under `config`'s policy (issuer, audience, scopes, rules);
 * `config` was checked by the caller.
 */
export const policyGate = (config: BearerAuthConfig): Gate => {
  const { verifyAccessToken, issuer, audience, requiredScopes, resource, showErrorDetails } =
    config;
  const issuers =
    typeof issuer === 'string' ? [issuer] : (issuer as IssuerValidator)[trustedIssuers];
  const operations = nativeOperations(config);
  const policy = callNative(
    () =>
      new native.NativePolicy(
        {
          issuers,
          audience,
          audienceFromResource:
            (config as { [audienceFromResource]?: boolean })[audienceFromResource] === true,
          requiredScopes,
          resourceMetadata: resource ? createResourceMetadataEndpoint(resource).href : undefined,
          showErrorDetails,
        },
        operations
      )
  );
  return verifierGate({
    verifyAccessToken,
    policy,
    customIssuerCheck: typeof issuer === 'function' && !issuers ? issuer : undefined,
    withOperations: operations !== undefined,
    logger: config.logger,
  });
};

/**
 * Express (and plain `node:http` + `next`) face of a gate: the body is read from the request
 * stream or reused from a parser before (`request-body.ts`), `req.auth` is set on success.
 */
export const expressBearerAuth = (gate: Gate): RequestHandler => {
  const { now } = gate;
  const finish = (
    result: Decision<DecisionBody> | undefined,
    req: Request,
    res: Response,
    next: NextFunction
  ) => {
    if (!result) {
      // The client went away while sending the body.
      return;
    }
    if (!result.ok) {
      closeIfCut(res, result.body);
      sendFailure(res, result, gate.logger, req);
      return;
    }
    keepBody(req, result.body);
    attachAuth(req, result.authInfo, gate.logger);
    if (result.headers) {
      for (const [name, value] of result.headers) {
        res.setHeader(name, value);
      }
    }
    next();
  };
  if (gate.dpop) {
    return function bearerAuthHandler(req, res, next) {
      // `originalUrl`: the target as sent, before a mounting router took its prefix off.
      const dpop = nodeDpopParts(req, req.originalUrl ?? req.url);
      const ready = now?.(req.headers.authorization, dpop, req.method);
      if (ready) {
        finish(ready, req, res, next);
        return;
      }
      return gate
        .decide({ header: req.headers.authorization, request: mcpRequest(req), dpop }, (limit) =>
          decisionBody(req, limit)
        )
        .then((result) => finish(result, req, res, next));
    };
  }
  // Not an async function: with the keys cached the gate answers at once, and a returned
  // promise would cost every request a promise, a reaction and a microtask in Express.
  return function bearerAuthHandler(req, res, next) {
    const ready = now?.(req.headers.authorization);
    if (ready) {
      finish(ready, req, res, next);
      return;
    }
    return gate
      .decide({ header: req.headers.authorization, request: mcpRequest(req) }, (limit) =>
        decisionBody(req, limit)
      )
      .then((result) => finish(result, req, res, next));
  };
};

/** {@link policyGate} after the checks `handleBearerAuth` has always made of its config. */
export const checkedPolicyGate = (what: string, config: BearerAuthConfig): Gate => {
  const { verifyAccessToken, issuer } = config;
  if (typeof verifyAccessToken !== 'function') {
    throw new TypeError(
      '`verifyAccessToken` must be a function that takes a token and returns an `AuthInfo` object.'
    );
  }
  if (typeof issuer !== 'string' && typeof issuer !== 'function') {
    throw new TypeError(
      '`issuer` must be either a string or a function that validates the token issuer.'
    );
  }
  if (typeof issuer === 'string' && !URL.canParse(issuer)) {
    throw new TypeError('`issuer` must be a valid URL.');
  }
  refuseUnknownOptions(what, config, bearerAuthOptionNames);
  return policyGate(config);
};
