// `mcp-auth check`: the provider-compatibility checker, against local issuers.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import { readFile } from 'node:fs/promises';
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
    assert.match(human.stdout, /Successes \(6\)/);
    assert.match(human.stdout, /✓ S256 code challenge method supported: The "S256"/);
    assert.doesNotMatch(human.stdout, /Errors|Warnings/);
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

test('deliberately broken metadata: each problem in plain words, exit 1', async () => {
  const iss = await startIssuer({
    metadata: {
      response_types_supported: ['token'],
      code_challenge_methods_supported: ['plain'],
      registration_endpoint: undefined,
    },
  });
  try {
    const human = await run('check', iss.issuer);
    assert.equal(human.code, 1);
    assert.match(human.stdout, /\(oauth\): Not compatible with MCP/);
    assert.match(human.stdout, /Warnings \(1\)\n {2}! Dynamic registration not supported: /);
    assert.match(human.stdout, /Errors \(2\)/);
    assert.match(human.stdout, /✗ Code response type not supported: The server does not support/);
    assert.match(human.stdout, /✗ S256 code challenge method not supported: /);
    const { code, stdout } = await run('check', '--json', iss.issuer);
    assert.equal(code, 1);
    const out = JSON.parse(stdout);
    assert.deepEqual(
      out.errors.map((e) => e.code),
      ['code_response_type_not_supported', 's256_code_challenge_method_not_supported']
    );
    assert.deepEqual(
      out.warnings.map((w) => w.code),
      ['dynamic_registration_not_supported']
    );
  } finally {
    await iss.close();
  }
});

test('metadata that fails the schema is reported with its reason, exit 1', async () => {
  const iss = await startIssuer({ metadata: { token_endpoint: 5 } });
  try {
    const human = await run('check', iss.issuer, '--type', 'oidc');
    assert.equal(human.code, 1);
    assert.match(human.stdout, /✗ Invalid server metadata: /);
    assert.match(human.stdout, /invalid type: integer `5`, expected a string/);
    const out = JSON.parse((await run('check', iss.issuer, '--json')).stdout);
    assert.equal(out.isValid, false);
    assert.equal(out.config, null);
    assert.deepEqual(
      out.errors.map((e) => e.code),
      ['invalid_server_metadata']
    );
  } finally {
    await iss.close();
  }
});

test('metadata naming another issuer is not compatible (RFC 8414 §3.3)', async () => {
  const iss = await startIssuer({ metadata: { issuer: 'https://elsewhere.example.com' } });
  try {
    const { code, stdout } = await run('check', iss.issuer);
    assert.equal(code, 1);
    assert.match(stdout, /✗ Issuer mismatch: The metadata names another issuer/);
    assert.match(
      stdout,
      /expected "http:\/\/127\.0\.0\.1:\d+", found "https:\/\/elsewhere\.example\.com"/
    );
    // Fetched by URL there is no issuer to compare with.
    const byUrl = await run('check', `${iss.issuer}/.well-known/oauth-authorization-server`);
    assert.equal(byUrl.code, 0);
  } finally {
    await iss.close();
  }
});

test('discovery without a type reports the type that answered', async () => {
  const iss = await startIssuer({ path: '/tenant', serves: ['oidc-inserted'] });
  try {
    const out = JSON.parse((await run('check', iss.issuer, '--json')).stdout);
    assert.equal(out.type, 'oidc');
    assert.equal(out.isValid, true);
    assert.equal(out.url, `${iss.origin}/.well-known/openid-configuration/tenant`);
    const human = await run('check', iss.issuer);
    assert.match(
      human.stdout,
      /\nMetadata: http:\/\/127\.0\.0\.1:\d+\/\.well-known\/openid-configuration\/tenant\n/
    );
    const none = await startIssuer({ path: '/tenant', serves: [] });
    try {
      const failed = await run('check', none.issuer);
      assert.equal(failed.code, 2);
      assert.match(
        failed.stderr,
        /^Fetch server config error: Failed to fetch server config from /
      );
      // Every URL tried is named.
      assert.match(
        failed.stderr,
        /also tried .*oauth-authorization-server\/tenant.*openid-configuration\/tenant/
      );
    } finally {
      await none.close();
    }
  } finally {
    await iss.close();
  }
});

test('usage errors exit 2, --help exits 0', async () => {
  assert.equal((await run('check')).code, 2);
  assert.equal((await run('check', 'a', 'b')).code, 2);
  assert.equal((await run('check', 'https://x', '--type', 'saml')).code, 2);
  assert.equal((await run('check', 'https://x', '--verbose')).code, 2);
  const help = await run('check', '--help');
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Exit status: 0 compatible, 1 not compatible/);
});

test('tests/vectors/checker.json: the same text and exit status as the core and Python', async () => {
  const dir =
    process.env.MCP_AUTH_VECTORS ?? new URL('../../tests/vectors/', import.meta.url).pathname;
  const doc = JSON.parse(await readFile(`${dir}/checker.json`, 'utf8'));
  let documents = {};
  const server = http.createServer((req, res) => {
    const body = documents[new URL(req.url, 'http://x').pathname];
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
    res.end(body ? JSON.stringify(body) : '{"error":"not_found"}');
  });
  const base = await listen(server);
  const fill = (text) => text.replaceAll('{base}', base);
  try {
    documents = Object.fromEntries(
      Object.entries(doc.documents).map(([path, d]) => [path, JSON.parse(fill(JSON.stringify(d)))])
    );
    for (const c of doc.cases) {
      const args = [fill(c.target), ...(c.type ? ['--type', c.type] : [])];
      const { code, stdout, stderr } = await run('check', ...args);
      const out = c.exit_code === 2 ? stderr : stdout;
      assert.deepEqual(
        { code, lines: out.replace(/\n+$/, '').split('\n') },
        { code: c.exit_code, lines: c.text.map(fill) },
        c.name
      );
    }
  } finally {
    await close(server);
  }
});
