import cors from 'cors';
import type { Router } from 'express';

import { type CamelCaseProtectedResourceMetadata } from '../types/oauth.js';

import { expressRouter } from './express.js';
import { metadataDocument } from './metadata.js';

/**
 * Serves each resource's RFC 9728 metadata at its well-known path, with CORS for browser
 * clients.
 */
export const createResourceMetadataRouter = (
  metadataList: CamelCaseProtectedResourceMetadata[]
): Router => {
  const router = expressRouter();
  for (const metadata of metadataList) {
    const { path, document } = metadataDocument(metadata);
    // Express reads route strings as patterns: a `:` or `*` in a resource path is literal here.
    const route = path.replace(/[:*?+!(){}[\]\\]/g, '\\$&');
    router.use(route, cors());
    router.get(route, (_req, res) => {
      res.status(200).json(document);
    });
  }
  return router;
};
