// The native addon, through the generated napi-rs loader (native/index.js), which finds it
// beside itself (a source build) or in the per-platform package npm installed as an optional
// dependency (mcp-auth-linux-x64-gnu, ...). When neither is there, the loader's own error is
// about an npm bug; this one names the platform, the package that fits it and the supported list.
//
// The loader is loaded with a synchronous require of the ES module (Node >= 20.19, Bun, Deno)
// rather than a top-level await, so that `require('mcp-auth')` from CommonJS keeps working.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

import type * as Binding from '../native/index.js';

/** The platforms the release builds an addon package for (package.json's napi.targets). */
export const SUPPORTED_PLATFORMS = [
  'linux-x64-gnu',
  'linux-x64-musl',
  'linux-arm64-gnu',
  'linux-arm64-musl',
  'darwin-x64',
  'darwin-arm64',
  'win32-x64-msvc',
] as const;

const libc = (): 'glibc' | 'musl' | undefined => {
  if (process.platform !== 'linux') {
    return undefined;
  }
  // As the napi-rs loader decides: a glibc runtime version in the process report, else musl.
  const report = process.report?.getReport() as
    { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime ? 'glibc' : 'musl';
};

/** The napi-rs platform name of this process (e.g. linux-x64-gnu), supported or not. */
export const platformName = (): string => {
  const c = libc();
  const abi =
    c === 'glibc' ? '-gnu' : c === 'musl' ? '-musl' : process.platform === 'win32' ? '-msvc' : '';
  return `${process.platform}-${process.arch}${abi}`;
};

const load = createRequire(import.meta.url);

/** Where the loader would have found this platform's addon, if it is there at all. */
const installedAddon = (name: string): string | undefined => {
  try {
    load.resolve(`mcp-auth-${name}`);
    return `mcp-auth-${name}`;
  } catch {
    const local = `../native/mcp-auth.${name}.node`;
    return existsSync(new URL(local, import.meta.url)) ? `native/mcp-auth.${name}.node` : undefined;
  }
};

/** A load failure other than "not found" (e.g. the dynamic linker's). The loader chains its
 * attempts' messages as causes (codes dropped), so they are told apart by message. */
const loadFailure = (error: unknown): string | undefined => {
  for (let e = error; e instanceof Error; e = e.cause) {
    if (!/^Cannot find (module|native binding)/.test(e.message)) {
      return e.message.split('\n')[0];
    }
  }
  return undefined;
};

const missingAddon = (cause: unknown): Error => {
  const name = platformName();
  const where = `${process.platform} ${process.arch}${libc() ? ` (${libc()})` : ''}`;
  const list = SUPPORTED_PLATFORMS.join(', ');
  const installed = installedAddon(name);
  let message: string;
  if (installed !== undefined) {
    message = `mcp-auth: the native addon ${installed} is installed but did not load on ${where}: ${loadFailure(cause) ?? 'see the cause'}.`;
  } else if ((SUPPORTED_PLATFORMS as readonly string[]).includes(name)) {
    message = `mcp-auth: no native addon found for ${where}: install mcp-auth-${name} (npm adds it as an optional dependency of mcp-auth unless optional dependencies are omitted, e.g. --omit=optional); prebuilt addons exist for ${list}.`;
  } else {
    message = `mcp-auth: no prebuilt native addon exists for ${where} (it would be mcp-auth-${name}); prebuilt addons exist for ${list}, and other platforms build it from source (Rust's cargo, then \`npm run build:native\` in a clone).`;
  }
  const error = new Error(message) as Error & { code: string };
  error.code = 'native_addon_unavailable';
  error.cause = cause;
  return error;
};

let binding: typeof Binding;
try {
  binding = load('../native/index.js') as typeof Binding;
} catch (cause) {
  throw missingAddon(cause);
}

export const {
  NativeAuthenticator,
  NativeJwtVerifier,
  NativePolicy,
  checkProvider,
  clearCaches,
  discoveredServerConfig,
  discoverMetadataJson,
  discoveryUrls,
  errorDescription,
  fetchMetadataJson,
  jwksFetchCount,
  parseServerMetadata,
  protectedResourceMetadata,
  resourceMetadataPath,
  resourceMetadataUrl,
  routeAudience,
  takeNotices,
  validateResources,
  validateServerMetadata,
  wellKnownUrl,
  __napiBindingTarget,
} = binding;
export type NativeAuthenticator = Binding.NativeAuthenticator;
export type NativeJwtVerifier = Binding.NativeJwtVerifier;
export type NativePolicy = Binding.NativePolicy;
export type { McpRequestInput, RequestAuthInput } from '../native/index.js';
