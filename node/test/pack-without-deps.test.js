// `npm pack` in a fresh clone, before `npm ci`: one line saying what to run, never a shell's
// "napi: not found".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const here = new URL('..', import.meta.url).pathname;

test('npm pack without npm ci prints one line naming npm ci', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-auth-pack-'));
  try {
    for (const f of [
      'package.json',
      'scripts',
      'src',
      'tsconfig.json',
      'tsconfig.build.json',
      'README.md',
    ]) {
      cpSync(join(here, f), join(dir, f), { recursive: true });
    }
    const r = spawnSync('npm', ['pack', '--dry-run'], { cwd: dir, encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    const ours = r.stderr.split('\n').filter((l) => l.startsWith('mcp-auth:'));
    assert.equal(ours.length, 1, r.stderr);
    assert.match(ours[0], /napi/);
    assert.match(ours[0], /run `npm ci`/);
    assert.doesNotMatch(r.stderr + r.stdout, /not found/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
