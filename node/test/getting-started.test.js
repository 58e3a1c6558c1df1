// The getting-started page's Node snippets, run as written against a local issuer.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { freePort, startIssuer, startSnippet } from './support/servers.js';

let iss;
let child;
let base;
let output;

before(async () => {
  iss = await startIssuer();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  // It answers once it has fetched the issuer's metadata.
  ({ child, output } = await startSnippet(
    new URL('./fixtures/getting-started.js', import.meta.url).pathname,
    { ISSUER: iss.issuer, PORT: String(port) },
    `${base}/notes`
  ));
});

after(async () => {
  child?.kill();
  await iss?.close();
});

test('the protected-resource metadata is served at the documented path', async () => {
  const res = await fetch(`${base}/.well-known/oauth-protected-resource/notes`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), {
    resource: 'https://api.example.com/notes',
    scopes_supported: ['read:notes', 'write:notes'],
    authorization_servers: [iss.issuer],
  });
});

test('/notes answers 401 without a token, 403 without the scope, 200 with it', async () => {
  const none = await fetch(`${base}/notes`);
  assert.equal(none.status, 401);
  assert.equal(
    none.headers.get('www-authenticate'),
    'Bearer scope="read:notes", resource_metadata="https://api.example.com/.well-known/oauth-protected-resource/notes"'
  );
  const aud = 'https://api.example.com/notes';
  const weak = await iss.mint({ aud, scope: 'write:notes' });
  const denied = await fetch(`${base}/notes`, { headers: { authorization: `Bearer ${weak}` } });
  assert.equal(denied.status, 403);
  const good = await iss.mint({ aud, scope: 'read:notes' });
  const ok = await fetch(`${base}/notes`, { headers: { authorization: `Bearer ${good}` } });
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { notes: [] });
  assert.match(output.join(''), /Auth info:/);
});
