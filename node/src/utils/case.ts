/** `jwks_uri` -> `jwksUri` (camelcase-keys' rule for snake_case keys). */
export const camelCase = (key: string): string =>
  key.replace(/[_-]+([a-z0-9])/gi, (_, c: string) => c.toUpperCase());

/** `jwksUri` -> `jwks_uri` (snakecase-keys' rule for camelCase keys). */
export const snakeCase = (key: string): string =>
  key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' &&
  value !== null &&
  (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null);

/** Shallow camelCase of an object's keys, as `fetchServerConfig` returns metadata. */
export const camelCaseKeys = (object: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(object).map(([k, v]) => [camelCase(k), v]));

/** Deep snake_case of plain objects' keys (arrays walked), `undefined` values dropped. */
export const snakeCaseKeysDeep = (value: unknown): unknown => {
  if (Array.isArray(value)) {
    return value.map((item) => snakeCaseKeysDeep(item));
  }
  if (isPlainObject(value)) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [snakeCase(k), snakeCaseKeysDeep(v)])
    );
  }
  return value;
};
