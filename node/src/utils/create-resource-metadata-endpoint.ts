import * as native from '../native.js';
import { callNative } from '../native-errors.js';

/**
 * The URL of a resource's protected-resource metadata (RFC 9728 §3.1):
 * `https://api.example.com/notes` -> `https://api.example.com/.well-known/oauth-protected-resource/notes`.
 */
export const createResourceMetadataEndpoint = (resource: string): URL =>
  new URL(callNative(() => native.resourceMetadataUrl(resource)));

/** The route path a server serves that document at. */
export const resourceMetadataPath = (resource: string): string =>
  callNative(() => native.resourceMetadataPath(resource));
