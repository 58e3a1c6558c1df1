import cors from 'cors';
import { Router } from 'express';

import * as native from '../native.js';
import { callNative } from '../native-errors.js';
import { type CamelCaseProtectedResourceMetadata } from '../types/oauth.js';
import { snakeCaseKeysDeep } from '../utils/case.js';
import { resourceMetadataPath } from '../utils/create-resource-metadata-endpoint.js';

/**
 * Serves each resource's RFC 9728 metadata at its well-known path, with CORS for browser
 * clients.
 */
export const createResourceMetadataRouter = (
  metadataList: CamelCaseProtectedResourceMetadata[]
): Router => {
  const router = Router();
  for (const metadata of metadataList) {
    const { authorizationServers, ...fields } = metadata;
    const path = resourceMetadataPath(metadata.resource);
    const document = callNative(() =>
      native.protectedResourceMetadata(snakeCaseKeysDeep(fields), authorizationServers ?? [])
    ) as Record<string, unknown>;
    // Express reads route strings as patterns: a `:` or `*` in a resource path is literal here.
    const route = path.replace(/[:*?+!(){}[\]\\]/g, '\\$&');
    router.use(route, cors());
    router.get(route, (_req, res) => {
      res.status(200).json(document);
    });
  }
  return router;
};
