import cors from 'cors';
import type { Router } from 'express';

import { type CamelCaseAuthorizationServerMetadata } from '../types/oauth.js';
import { snakeCaseKeysDeep } from '../utils/case.js';
import { serverMetadataPaths } from '../utils/fetch-server-config.js';

import { expressRouter } from './express.js';

/**
 * Serves the authorization server's metadata at `/.well-known/oauth-authorization-server`
 * (legacy mode, for clients of MCP specs before 2025-06-18). `metadata` may be given, or a
 * function that resolves it on request (lazy discovery).
 *
 * @deprecated Use protected-resource metadata instead.
 */
export const createDelegatedRouter = (
  metadata:
    CamelCaseAuthorizationServerMetadata | (() => Promise<CamelCaseAuthorizationServerMetadata>)
): Router => {
  const getMetadata = typeof metadata === 'function' ? metadata : async () => metadata;
  const router = expressRouter();
  router.use(serverMetadataPaths.oauth, cors());
  router.get(serverMetadataPaths.oauth, async (_req, res) => {
    res.status(200).json(snakeCaseKeysDeep(await getMetadata()));
  });
  return router;
};
