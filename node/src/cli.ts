#!/usr/bin/env node
/**
 * `npx mcp-auth check <issuer | metadata URL> [--type oauth|oidc] [--json]`: does this
 * authorization server fit MCP? Exit code 0 when compatible, 1 when not, 2 when the metadata
 * cannot be had (or the command line is wrong).
 */
import { MCPAuthError } from './errors.js';
import * as native from './native.js';
import { awaitNative, callNative, rebuildError } from './native-errors.js';
import { type AuthServerType, type ResolvedAuthServerConfig } from './types/auth-server.js';
import { camelCaseKeys } from './utils/case.js';

const usage = `Usage: mcp-auth check <issuer or metadata URL> [--type oauth|oidc] [--json]

Fetches the authorization server's metadata (without --type, the MCP discovery order: OAuth
path-inserted, OIDC path-inserted, OIDC path-appended), checks that MCP clients can use it and
prints what passed, what is missing and what is wrong.

Exit status: 0 compatible, 1 not compatible, 2 metadata not found or bad arguments.`;

type Finding = { code: string; description: string; cause?: unknown };

type Report = {
  isValid: boolean;
  errors: Finding[];
  warnings: Finding[];
  successes: Finding[];
};

type Fetched = {
  raw: unknown;
  type: AuthServerType;
  /** Where the document was found. */
  url: string;
  /** The issuer discovery started from; the document must name it (RFC 8414 §3.3). */
  issuer?: string;
};

const fetchRaw = async (target: string, type?: AuthServerType): Promise<Fetched> => {
  if (target.includes('/.well-known/')) {
    return {
      raw: await awaitNative(native.fetchMetadataJson(target)),
      type: type ?? (target.includes('openid-configuration') ? 'oidc' : 'oauth'),
      url: target,
    };
  }
  const found = await awaitNative<{ raw: unknown; type: AuthServerType; url: string }>(
    native.discoverMetadataJson(target, type)
  );
  return { ...found, issuer: target };
};

/** Core's findings, plus the issuer check when the document was found from an issuer. */
const examine = ({
  raw,
  type,
  issuer,
}: Fetched): Report & { config?: ResolvedAuthServerConfig } => {
  const report = native.validateServerMetadata(raw) as Report & { is_valid?: boolean };
  const result: Report = {
    isValid: Boolean(report.is_valid),
    errors: report.errors,
    warnings: report.warnings,
    successes: report.successes,
  };
  if (result.errors.some(({ code }) => code === 'invalid_server_metadata')) {
    return result;
  }
  let metadata: Record<string, unknown>;
  try {
    metadata = callNative(() => native.parseServerMetadata(raw, type, issuer));
  } catch (error: unknown) {
    const e = rebuildError(error);
    const cause = e instanceof MCPAuthError ? (e.cause as { cause?: unknown }) : undefined;
    result.isValid = false;
    result.errors.push({
      code: e instanceof MCPAuthError ? e.code : 'invalid_server_metadata',
      description: typeof cause?.cause === 'string' ? cause.cause : String(e),
    });
    metadata = callNative(() => native.parseServerMetadata(raw, type, undefined));
  }
  return {
    ...result,
    config: { metadata: camelCaseKeys(metadata) as ResolvedAuthServerConfig['metadata'], type },
  };
};

const humanize = (code: string) => {
  const words = code
    .split('_')
    .map((w) => (['mcp', 'oidc', 'jwt', 'pkce', 'url', 'uri'].includes(w) ? w.toUpperCase() : w));
  const text = words.join(' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
};

const plain = (cause: unknown): string => {
  if (typeof cause === 'string') {
    return cause;
  }
  const text = (cause as { error_description?: unknown } | null)?.error_description;
  return typeof text === 'string' ? text : JSON.stringify(cause);
};

const print = (fetched: Fetched, target: string, r: ReturnType<typeof examine>) => {
  const name = fetched.issuer ?? r.config?.metadata.issuer ?? target;
  const { type } = fetched;
  console.log(
    `${name} (${type}): ${r.isValid ? 'Compatible with MCP' : 'Not compatible with MCP'}`
  );
  console.log(`Metadata: ${fetched.url}`);
  for (const [title, mark, list] of [
    ['Successes', '✓', r.successes],
    ['Warnings', '!', r.warnings],
    ['Errors', '✗', r.errors],
  ] as const) {
    if (list.length > 0) {
      console.log(`\n${title} (${list.length})`);
      for (const { code, description, cause } of list) {
        console.log(`  ${mark} ${humanize(code)}: ${description}`);
        if (cause !== undefined && cause !== null) {
          console.log(`      ${plain(cause)}`);
        }
      }
    }
  }
};

const check = async (args: string[]): Promise<number> => {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(usage);
    return 0;
  }
  const json = args.includes('--json');
  const typeIndex = args.indexOf('--type');
  const type = typeIndex >= 0 ? (args[typeIndex + 1] as AuthServerType) : undefined;
  const targets = args.filter((a, i) => !a.startsWith('-') && args[i - 1] !== '--type');
  const unknown = args.filter((a) => a.startsWith('-') && a !== '--json' && a !== '--type');
  if (
    targets.length !== 1 ||
    unknown.length > 0 ||
    (typeIndex >= 0 && type !== 'oauth' && type !== 'oidc')
  ) {
    console.error(usage);
    return 2;
  }
  const target = targets[0]!;
  let fetched: Fetched;
  try {
    fetched = await fetchRaw(target, type);
  } catch (error: unknown) {
    const code = error instanceof MCPAuthError ? error.code : 'fetch_error';
    const description = error instanceof Error ? error.message : String(error);
    if (json) {
      console.log(
        JSON.stringify({ success: false, error: code, errorDescription: description }, null, 2)
      );
    } else {
      console.error(`${humanize(code)}: ${description}`);
    }
    return 2;
  }
  const result = examine(fetched);
  if (json) {
    const { config, isValid, errors, warnings, successes } = result;
    console.log(
      JSON.stringify(
        {
          success: true,
          type: fetched.type,
          url: fetched.url,
          config: config ?? null,
          isValid,
          ...(errors.length > 0 && { errors }),
          warnings,
          successes,
        },
        null,
        2
      )
    );
  } else {
    print(fetched, target, result);
  }
  return result.isValid ? 0 : 1;
};

const [command, ...rest] = process.argv.slice(2);
if (command === 'check') {
  process.exitCode = await check(rest);
} else if (command === '--help' || command === '-h' || command === 'help') {
  console.log(usage);
} else {
  console.error(usage);
  process.exitCode = 2;
}
