// Builds the native addon only when it is not there yet, so `npm pack` reuses the release
// build that `make test-node` (or `npm run build:native`) made. Packing needs the dev tools
// (napi-rs CLI, TypeScript); a clone without them gets one line saying what to run instead of
// a shell's "not found".
import { execSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const dir = new URL('native/', root);
let present = [];
try {
  present = readdirSync(dir).filter((f) => f.endsWith('.node'));
} catch {
  // no native/ yet
}
const tool = (name) => existsSync(new URL(`node_modules/.bin/${name}`, root));
const missing = ['tsc', ...(present.length === 0 ? ['napi'] : [])].filter((t) => !tool(t));
if (missing.length > 0) {
  console.error(
    `mcp-auth: cannot build the package: ${missing.join(' and ')} not installed; run \`npm ci\` in node/ (or \`make node-build\`) first.`
  );
  process.exit(1);
}
if (present.length === 0) {
  execSync('npm run build:native', { stdio: 'inherit', cwd: root });
} else {
  console.log(`mcp-auth: reusing native/${present.join(', native/')}`);
}
