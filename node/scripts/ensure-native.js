// Builds the native addon only when it is not there yet, so `npm pack` reuses the release
// build that `make test-node` (or `npm run build:native`) made.
import { execSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const dir = new URL('../native/', import.meta.url);
let present = [];
try {
  present = readdirSync(dir).filter((f) => f.endsWith('.node'));
} catch {
  // no native/ yet
}
if (present.length === 0) {
  execSync('npm run build:native', { stdio: 'inherit', cwd: new URL('..', import.meta.url) });
} else {
  console.log(`mcp-auth: reusing native/${present.join(', native/')}`);
}
