import cors from 'cors';
import type { Router } from 'express';

import { expressRouter } from './express.js';
import { type MetadataDocument } from './metadata.js';

/**
 * Serves each resource's RFC 9728 metadata at its well-known path, with CORS for browser
 * clients.
 */
export const createResourceMetadataRouter = (documents: MetadataDocument[]): Router => {
  const router = expressRouter();
  for (const metadataDoc of documents) {
    const { path } = metadataDoc;
    // Express reads route strings as patterns: a `:` or `*` in a resource path is literal here.
    const route = path.replace(/[:*?+!(){}[\]\\]/g, '\\$&');
    router.use(route, cors());
    router.get(route, (_req, res) => {
      res.status(200).json(metadataDoc.document);
    });
  }
  return router;
};
