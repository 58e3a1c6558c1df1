// The generated napi-rs loader; it finds the addon beside it or in a per-platform package.
export * from '../native/index.js';
