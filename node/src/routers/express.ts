import { createRequire } from 'node:module';

import type { Router } from 'express';

import { MCPAuthConfigError } from '../errors.js';

/**
 * Express is loaded when an Express router is asked for, not when the package is imported,
 * so servers on Hono, Fastify or a web-standard runtime need not install it.
 */
export const expressRouter = (): Router => {
  let express: { Router: () => Router };
  try {
    express = createRequire(import.meta.url)('express') as { Router: () => Router };
  } catch (error: unknown) {
    throw new MCPAuthConfigError(
      'express_not_installed',
      `The Express routers of mcp-auth need the \`express\` package (npm install express): ${
        error instanceof Error ? error.message : String(error)
      }`
    );
  }
  return express.Router();
};
