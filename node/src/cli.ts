#!/usr/bin/env node
/**
 * `npx mcp-auth check <issuer | metadata URL> [--type oauth|oidc] [--json]`: does this
 * authorization server fit MCP? Exit code 0 when compatible, 1 when not, 2 when the metadata
 * cannot be had (or the command line is wrong).
 */
import * as native from './native.js';
import { type AuthServerType } from './types/auth-server.js';
import { camelCaseKeys } from './utils/case.js';

const usage = `Usage: mcp-auth check <issuer or metadata URL> [--type oauth|oidc] [--json]

Fetches the authorization server's metadata (without --type, the MCP discovery order: OAuth
path-inserted, OIDC path-inserted, OIDC path-appended), checks that MCP clients can use it and
prints what passed, what is missing and what is wrong.

Exit status: 0 compatible, 1 not compatible, 2 metadata not found or bad arguments.`;

type Finding = { code: string; description: string; cause?: unknown };

/** Core's checker: the same report and exit status as `python -m mcpauth check`. */
type Outcome = {
  exit_code: number;
  text: string;
  type?: AuthServerType;
  url?: string;
  metadata?: Record<string, unknown>;
  is_valid?: boolean;
  errors?: Finding[];
  warnings?: Finding[];
  successes?: Finding[];
  error?: string;
  error_description?: string;
};

const jsonReport = (o: Outcome) => {
  if (o.exit_code === 2) {
    return { success: false, error: o.error, errorDescription: o.error_description };
  }
  const errors = o.errors ?? [];
  const usable = !errors.some(({ code }) => code === 'invalid_server_metadata');
  return {
    success: true,
    type: o.type,
    url: o.url,
    config: usable ? { metadata: camelCaseKeys(o.metadata ?? {}), type: o.type } : null,
    isValid: Boolean(o.is_valid),
    ...(errors.length > 0 && { errors }),
    warnings: o.warnings ?? [],
    successes: o.successes ?? [],
  };
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
  const outcome = (await native.checkProvider(targets[0]!, type)) as Outcome;
  if (json) {
    console.log(JSON.stringify(jsonReport(outcome), null, 2));
  } else if (outcome.exit_code === 2) {
    console.error(outcome.text);
  } else {
    process.stdout.write(outcome.text);
  }
  return outcome.exit_code;
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
