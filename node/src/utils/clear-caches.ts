import * as native from '../native.js';

/**
 * Forgets the key sets and discovered authorization-server metadata this process has cached,
 * so the next verification fetches them again (tests; processes that reconfigure tenants).
 */
export const clearCaches = (): void => {
  native.clearCaches();
};
