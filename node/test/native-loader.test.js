// The native addon's loading (src/native.ts over the generated napi-rs loader): a copy of the
// package's loader files in a temporary directory, with or without the addon, run by a child
// node. Without an addon that fits, one error naming the platform, the package that would fit
// and the supported list; with the platform package installed beside it, the addon loads from
// there (as npm installs it from the registry), not from beside the loader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = dirname(dirname(fileURLToPath(import.meta.resolve('mcp-auth'))));
const SUPPORTED =
  'linux-x64-gnu, linux-x64-musl, linux-arm64-gnu, linux-arm64-musl, darwin-x64, darwin-arm64, win32-x64-msvc';
const glibc = Boolean(process.report.getReport().header.glibcVersionRuntime);
const here = process.platform === 'linux' && process.arch === 'x64' && glibc;
const skip = here ? false : 'the copies below carry the linux-x64-gnu addon';

/** The linux-x64-gnu addon the suite runs on: beside the loader (source tree) or in its package. */
const addon = () =>
  [
    join(pkg, 'native', 'mcp-auth.linux-x64-gnu.node'),
    join(pkg, '..', 'mcp-auth-linux-x64-gnu', 'mcp-auth.linux-x64-gnu.node'),
  ].find((f) => existsSync(f));

/** A project with the loader files of the package (no addon); returns its directory. */
const project = (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-auth-loader-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const copy = join(dir, 'node_modules', 'mcp-auth');
  mkdirSync(join(copy, 'lib'), { recursive: true });
  mkdirSync(join(copy, 'native'));
  cpSync(join(pkg, 'lib', 'native.js'), join(copy, 'lib', 'native.js'));
  cpSync(join(pkg, 'native', 'index.js'), join(copy, 'native', 'index.js'));
  writeFileSync(
    join(copy, 'package.json'),
    JSON.stringify({ name: 'mcp-auth', version: '0.0.0', type: 'module' })
  );
  return dir;
};

const platformPackage = (dir, node) => {
  const p = join(dir, 'node_modules', 'mcp-auth-linux-x64-gnu');
  mkdirSync(p, { recursive: true });
  // As npm/linux-x64-gnu/package.json has it.
  const manifest = {
    name: 'mcp-auth-linux-x64-gnu',
    version: '0.0.0',
    main: 'mcp-auth.linux-x64-gnu.node',
  };
  writeFileSync(join(p, 'package.json'), JSON.stringify(manifest));
  writeFileSync(join(p, manifest.main), node);
};

/** Imports the copied loader in a child node (with `preload` run first); its result or error. */
const load = (dir, preload = '') => {
  const script = `
    try {
      const m = await import(${JSON.stringify(join(dir, 'node_modules', 'mcp-auth', 'lib', 'native.js'))});
      console.log(JSON.stringify({ ok: m.resourceMetadataUrl('https://x.example/mcp').startsWith('https://x.example/'), keys: Object.keys(m).length }));
    } catch (e) {
      console.log(JSON.stringify({ message: e.message, code: e.code, cause: Boolean(e.cause) }));
    }`;
  const args = preload ? ['--import', `data:text/javascript,${encodeURIComponent(preload)}`] : [];
  const env = { ...process.env };
  delete env.NAPI_RS_NATIVE_LIBRARY_PATH;
  const r = spawnSync(process.execPath, [...args, '--input-type=module', '-e', script], {
    cwd: dir,
    env,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
};

test(
  'no addon for this platform: one error naming the platform, its package and the list',
  { skip },
  (t) => {
    const r = load(project(t));
    assert.equal(r.code, 'native_addon_unavailable');
    assert.equal(
      r.message,
      `mcp-auth: no native addon found for linux x64 (glibc): install mcp-auth-linux-x64-gnu (npm adds it as an optional dependency of mcp-auth unless optional dependencies are omitted, e.g. --omit=optional); prebuilt addons exist for ${SUPPORTED}.`
    );
    assert.ok(!r.message.includes('\n'));
    assert.ok(r.cause, "the napi-rs loader's error is kept as the cause");
  }
);

test(
  'the addon is found in the platform package npm installs, not beside the loader',
  { skip },
  (t) => {
    const dir = project(t);
    platformPackage(dir, readFileSync(addon()));
    assert.ok(
      !existsSync(join(dir, 'node_modules', 'mcp-auth', 'native', 'mcp-auth.linux-x64-gnu.node'))
    );
    const r = load(dir);
    assert.equal(r.ok, true, r.message);
    assert.ok(r.keys >= 20, 'every named export of the binding');
  }
);

test('another architecture names its own package', { skip }, (t) => {
  const r = load(project(t), "Object.defineProperty(process, 'arch', { value: 'arm64' });");
  assert.match(
    r.message,
    /^mcp-auth: no native addon found for linux arm64 \(glibc\): install mcp-auth-linux-arm64-gnu /
  );
});

test('a platform without prebuilt addons says so and lists the supported ones', { skip }, (t) => {
  const r = load(project(t), "Object.defineProperty(process, 'platform', { value: 'freebsd' });");
  assert.equal(
    r.message,
    `mcp-auth: no prebuilt native addon exists for freebsd x64 (it would be mcp-auth-freebsd-x64); prebuilt addons exist for ${SUPPORTED}, and other platforms build it from source (Rust's cargo, then \`npm run build:native\` in a clone).`
  );
});

test('an installed addon that does not load is named with the reason', { skip }, (t) => {
  const dir = project(t);
  platformPackage(dir, 'not a shared object');
  const r = load(dir);
  assert.equal(r.code, 'native_addon_unavailable');
  assert.match(
    r.message,
    /^mcp-auth: the native addon mcp-auth-linux-x64-gnu is installed but did not load on linux x64 \(glibc\): .*(invalid ELF header|too short)/
  );
});

test(
  "the supported list is package.json's napi.targets, each with its platform package",
  { skip: process.env.MCP_AUTH_INSTALLED ? 'the source tree only' : false },
  async () => {
    const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
    const { SUPPORTED_PLATFORMS } = await import(join(pkg, 'lib', 'native.js'));
    const names = {
      'x86_64-unknown-linux-gnu': 'linux-x64-gnu',
      'x86_64-unknown-linux-musl': 'linux-x64-musl',
      'aarch64-unknown-linux-gnu': 'linux-arm64-gnu',
      'aarch64-unknown-linux-musl': 'linux-arm64-musl',
      'x86_64-apple-darwin': 'darwin-x64',
      'aarch64-apple-darwin': 'darwin-arm64',
      'x86_64-pc-windows-msvc': 'win32-x64-msvc',
    };
    assert.deepEqual(
      manifest.napi.targets.map((t) => names[t]),
      [...SUPPORTED_PLATFORMS]
    );
    assert.equal(SUPPORTED_PLATFORMS.join(', '), SUPPORTED);
    for (const platform of SUPPORTED_PLATFORMS) {
      const p = JSON.parse(readFileSync(join(pkg, 'npm', platform, 'package.json'), 'utf8'));
      assert.equal(p.name, `mcp-auth-${platform}`);
      assert.equal(p.version, manifest.version);
      assert.equal(p.main, `mcp-auth.${platform}.node`);
      assert.deepEqual(p.files, [p.main]);
    }
    // Committed without them (npm ci would fail on unpublished names); prepublishOnly adds them.
    assert.equal(manifest.optionalDependencies, undefined);
    assert.match(manifest.scripts.prepublishOnly, /^napi pre-publish /);
  }
);
