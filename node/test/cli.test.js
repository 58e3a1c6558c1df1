// `mcp-auth check`: the provider-compatibility checker, against local issuers.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

import { listen, close, startIssuer } from './support/servers.js';

const cli = fileURLToPath(import.meta.resolve('mcp-auth/cli.js'));

const run = (...args) =>
  new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], (error, stdout, stderr) => {
      resolve({ code: error ? error.code : 0, stdout, stderr });
    });
  });

test('a compatible issuer, discovered without a type', async () => {
  const iss = await startIssuer();
  try {
    const { code, stdout } = await run('check', iss.issuer, '--json');
    assert.equal(code, 0);
    const out = JSON.parse(stdout);
    assert.equal(out.success, true);
    assert.equal(out.isValid, true);
    assert.equal(out.type, 'oauth');
    assert.equal(out.config.metadata.jwksUri, iss.jwksUri);
    assert.ok(out.successes.some((s) => s.code === 'pkce_supported'));
    const human = await run('check', `${iss.issuer}/.well-known/openid-configuration`);
    assert.equal(human.code, 0);
    assert.match(human.stdout, /\(oidc\): Compatible with MCP/);
    assert.match(human.stdout, /S256 code challenge method supported/);
  } finally {
    await iss.close();
  }
});

test('an incompatible issuer and an unreachable one', async () => {
  const iss = await startIssuer({ metadata: { code_challenge_methods_supported: undefined } });
  try {
    const { code, stdout } = await run('check', iss.issuer, '--type', 'oidc', '--json');
    assert.equal(code, 1);
    const out = JSON.parse(stdout);
    assert.equal(out.isValid, false);
    assert.deepEqual(
      out.errors.map((e) => e.code),
      ['pkce_not_supported']
    );
  } finally {
    await iss.close();
  }
  const dead = http.createServer();
  const url = await listen(dead);
  await close(dead);
  const failed = await run('check', url, '--json');
  assert.equal(failed.code, 2);
  const out = JSON.parse(failed.stdout);
  assert.equal(out.success, false);
  assert.equal(out.error, 'fetch_server_config_error');
  assert.equal((await run('nonsense')).code, 2);
});
