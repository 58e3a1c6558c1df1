#!/usr/bin/env node
/**
 * `npx mcp-auth check <issuer | metadata URL> [--type oauth|oidc] [--json]`: does this
 * authorization server fit MCP? Exit code 0 when compatible, 1 when not, 2 when the metadata
 * cannot be had.
 */
import { MCPAuthError } from './errors.js';
import { type AuthServerType, type ResolvedAuthServerConfig } from './types/auth-server.js';
import { fetchServerConfig, fetchServerConfigByWellKnownUrl } from './utils/fetch-server-config.js';
import { validateServerConfig } from './utils/validate-server-config.js';

const usage = 'Usage: mcp-auth check <issuer or metadata URL> [--type oauth|oidc] [--json]';

const discover = async (
  target: string,
  type?: AuthServerType
): Promise<ResolvedAuthServerConfig> => {
  if (target.includes('/.well-known/')) {
    return fetchServerConfigByWellKnownUrl(target, {
      type: type ?? (target.includes('openid-configuration') ? 'oidc' : 'oauth'),
    });
  }
  return fetchServerConfig(target, { type });
};

const humanize = (code: string) => {
  const words = code
    .split('_')
    .map((w) => (['mcp', 'oidc', 'jwt', 'pkce', 'url', 'uri'].includes(w) ? w.toUpperCase() : w));
  const text = words.join(' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
};

const check = async (args: string[]): Promise<number> => {
  const json = args.includes('--json');
  const typeIndex = args.indexOf('--type');
  const type = typeIndex >= 0 ? (args[typeIndex + 1] as AuthServerType) : undefined;
  const target = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--type');
  if (!target || (type && type !== 'oauth' && type !== 'oidc')) {
    console.error(usage);
    return 2;
  }
  let config: ResolvedAuthServerConfig;
  try {
    config = await discover(target, type);
  } catch (error: unknown) {
    const code = error instanceof MCPAuthError ? error.code : 'fetch_error';
    const description = error instanceof Error ? error.message : String(error);
    if (json) {
      console.log(
        JSON.stringify({ success: false, error: code, errorDescription: description }, null, 2)
      );
    } else {
      console.error(`${humanize(code)} - ${description}`);
    }
    return 2;
  }
  const result = validateServerConfig(config, true);
  if (json) {
    console.log(JSON.stringify({ success: true, type: config.type, config, ...result }, null, 2));
  } else {
    console.log(
      `${config.metadata.issuer} (${config.type}): ${result.isValid ? 'Compatible with MCP' : 'Not compatible with MCP'}`
    );
    for (const [title, list] of [
      ['Successes', result.successes],
      ['Warnings', result.warnings],
      ['Errors', result.errors],
    ] as const) {
      if (list && list.length > 0) {
        console.log(`\n${title} (${list.length})`);
        for (const { code, description } of list) {
          console.log(`  - ${humanize(code)}: ${description}`);
        }
      }
    }
  }
  return result.isValid ? 0 : 1;
};

const [command, ...rest] = process.argv.slice(2);
if (command === 'check') {
  process.exitCode = await check(rest);
} else {
  console.error(usage);
  process.exitCode = 2;
}
