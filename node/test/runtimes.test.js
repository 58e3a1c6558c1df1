// Bun and Deno (both from their npm packages) load the Node-API addon and serve mcp-auth's
// web-standard handler and Hono middleware from their own HTTP servers; the MCP SDK's client
// (on Node) calls tools there.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { startIssuer } from './support/servers.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const script = fileURLToPath(new URL('./runtimes/server.mjs', import.meta.url));
const bin = (name) => fileURLToPath(new URL(`../node_modules/.bin/${name}`, import.meta.url));

const runtimes = [
  { name: 'bun', args: [script] },
  { name: 'deno', args: ['run', '--allow-all', script] },
];

for (const runtime of runtimes) {
  describe(`${runtime.name}: fetchHandler and mcp-auth/hono on its own server`, () => {
    let iss;
    let child;
    let url;
    const output = [];

    before(async () => {
      assert.ok(existsSync(bin(runtime.name)), `${runtime.name} is a devDependency`);
      iss = await startIssuer();
      child = spawn(bin(runtime.name), runtime.args, {
        cwd: here,
        env: { ...process.env, ISSUER: iss.issuer, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stderr.on('data', (d) => output.push(String(d)));
      const lines = createInterface({ input: child.stdout });
      const first = await new Promise((resolve, reject) => {
        lines.once('line', resolve);
        child.once('exit', (code) => reject(new Error(`exited ${code}: ${output.join('')}`)));
      });
      const started = JSON.parse(first);
      assert.equal(started.runtime, runtime.name);
      url = started.url;
    });
    after(async () => {
      child?.kill();
      await iss?.close();
    });

    for (const path of ['mcp', 'hono/mcp']) {
      test(`/${path}: the tool sees the caller; 401 without a token; 403 before a ruled tool`, async () => {
        const resource = `${url}/${path}`;
        const call = async (scope, name) => {
          const token = await iss.mint({ aud: resource, sub: 'alice', scope });
          const client = new Client({ name: 'test', version: '1.0.0' });
          await client.connect(
            new StreamableHTTPClientTransport(new URL(resource), {
              requestInit: { headers: { Authorization: `Bearer ${token}` } },
            })
          );
          try {
            return await client.callTool({ name, arguments: {} });
          } finally {
            await client.close();
          }
        };
        const who = await call('read', 'whoami');
        assert.equal(who.content[0].text, `alice on ${runtime.name}`);
        await assert.rejects(call('read', 'delete-note'), (err) => err.code === 403);
        assert.equal((await call('read delete', 'delete-note')).content[0].text, 'deleted');

        const none = await fetch(resource, { method: 'POST', body: '{}' });
        assert.equal(none.status, 401);
        const metadataUrl = /resource_metadata="([^"]+)"/.exec(
          none.headers.get('www-authenticate')
        )[1];
        const doc = await fetch(metadataUrl);
        assert.equal(doc.status, 200);
        assert.equal((await doc.json()).resource, resource);
      });
    }
  });
}
