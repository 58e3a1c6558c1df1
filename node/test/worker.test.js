// The addon in worker threads: each thread loads it and verifies on the shared core runtime.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';

import { startIssuer } from './support/servers.js';

const source = `
  import { parentPort, workerData } from 'node:worker_threads';
  import { createVerifyJwt } from '${import.meta.resolve('mcp-auth')}';
  const verify = createVerifyJwt(workerData.jwksUri);
  const info = await verify(workerData.token);
  parentPort.postMessage(info.subject);
`;

test('verification works in worker threads', async () => {
  const iss = await startIssuer();
  try {
    const results = await Promise.all(
      [1, 2, 3].map(async (i) => {
        const token = await iss.mint({ sub: `worker-${i}` });
        const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(source)}`), {
          workerData: { jwksUri: iss.jwksUri, token },
        });
        return new Promise((resolve, reject) => {
          worker.once('message', resolve);
          worker.once('error', reject);
        }).finally(() => worker.terminate());
      })
    );
    assert.deepEqual(results, ['worker-1', 'worker-2', 'worker-3']);
  } finally {
    await iss.close();
  }
});
