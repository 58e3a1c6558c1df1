import * as native from '../native.js';
import { shapeOfNativeError } from '../native-errors.js';

/** Core refuses a resource identifier; upstream's callers catch the `TypeError` `new URL` throws. */
const asTypeError = <T>(run: () => T): T => {
  try {
    return run();
  } catch (error: unknown) {
    const shape = shapeOfNativeError(error);
    if (!shape) {
      throw error;
    }
    const cause = shape.details?.cause as { error_description?: string } | undefined;
    throw new TypeError(cause?.error_description ?? shape.message ?? shape.code);
  }
};

/**
 * The URL of a resource's protected-resource metadata (RFC 9728 §3.1):
 * `https://api.example.com/notes` -> `https://api.example.com/.well-known/oauth-protected-resource/notes`.
 * Throws a `TypeError` for a resource identifier that is not an absolute URL without fragment.
 */
export const createResourceMetadataEndpoint = (resource: string): URL =>
  new URL(asTypeError(() => native.resourceMetadataUrl(resource)));

/** The route path a server serves that document at. */
export const resourceMetadataPath = (resource: string): string =>
  asTypeError(() => native.resourceMetadataPath(resource));
