/**
 * The web-standard face of a gate: a WHATWG `Request` in, `AuthInfo` or a `Response` out, for
 * any runtime with `fetch` types (Node 20+, Bun, Deno, edge runtimes) and the frameworks
 * built on them (Hono, Next.js route handlers, the MCP SDK v2's `handler.fetch`).
 *
 * The body, when per-operation rules need it, is read from a clone of the request (at most the
 * limit core gives), so the request the application received can still be read by whatever
 * comes next, exactly as sent.
 */
import { type AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';

import { challengeLines, type Failure } from './bearer-response.js';
import { webDpopProofs } from './dpop.js';
import { reportFailure, type Gate } from './gate.js';
import { mcpRequestInput } from './request-body.js';

/** The body bytes a web request was decided on. */
export type WebBody = {
  bytes?: Buffer;
  /** False when the read stopped at the limit with more of the body unread. */
  complete: boolean;
};

const empty = () => ({ bytes: Buffer.alloc(0), complete: true });

/**
 * At most `limit` bytes of `request`'s body, read from a clone; `undefined` when the client
 * went away while sending it. A body already consumed (or locked) by someone else gives no
 * bytes, which core refuses as unreadable rather than guess.
 */
export const readWebBody = async (
  request: Request,
  limit: number
): Promise<WebBody | undefined> => {
  if (limit === 0) {
    // Content-Length already says it is too large: nothing is read.
    return { complete: false };
  }
  if (!request.body) {
    return empty();
  }
  let reader: ReadableStreamDefaultReader<Uint8Array>;
  try {
    if (request.bodyUsed) {
      return empty();
    }
    reader = request.clone().body!.getReader();
  } catch {
    return empty();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        return { bytes: Buffer.concat(chunks, size), complete: true };
      }
      const chunk = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      chunks.push(chunk);
      size += chunk.length;
      if (size >= limit) {
        // Too large whatever follows: core answers 413 from these bytes.
        reader.cancel().catch(() => undefined);
        return { bytes: Buffer.concat(chunks, size).subarray(0, limit), complete: false };
      }
    }
  } catch {
    return undefined;
  }
};

/** Core's answer to a refused request as a web `Response`. */
export const failureResponse = (failure: Failure): Response => {
  const { status, body, headers: extra } = failure.response;
  const headers = new Headers({ 'content-type': 'application/json; charset=utf-8' });
  // Appended one by one; whether they leave as separate lines is the runtime's choice
  // (a fetch `Headers` joins them with ", ", which means the same).
  for (const challenge of challengeLines(failure.response) ?? []) {
    headers.append('www-authenticate', challenge);
  }
  for (const [name, value] of extra ?? []) {
    headers.append(name, value);
  }
  return new Response(JSON.stringify(body), { status, headers });
};

const pathOf = (request: Request) => {
  try {
    return new URL(request.url).pathname;
  } catch {
    return undefined;
  }
};

/** The request target (path and query) of a web request. */
const targetOf = (request: Request) => {
  try {
    const url = new URL(request.url);
    return url.pathname + url.search;
  } catch {
    return '';
  }
};

/**
 * Headers a DPoP route adds to the application's answer (`DPoP-Nonce`), by the `AuthInfo` it
 * let through; see {@link answerHeaders}.
 */
const pendingHeaders = new WeakMap<AuthInfo, Array<[string, string]>>();

/**
 * The headers a DPoP route asks to be added to the answer of the request `authInfo` came from
 * (`DPoP-Nonce` when nonces are on); empty otherwise.
 */
export const answerHeaders = (authInfo: AuthInfo): Array<[string, string]> =>
  pendingHeaders.get(authInfo) ?? [];

/**
 * `response` with {@link answerHeaders} of `authInfo` added (a copy when its headers cannot
 * be changed, as with a `Response` from `fetch`).
 */
export const withAnswerHeaders = (response: Response, authInfo: AuthInfo): Response => {
  const extra = pendingHeaders.get(authInfo);
  if (!extra || extra.length === 0) {
    return response;
  }
  let out = response;
  try {
    for (const [name, value] of extra) {
      out.headers.set(name, value);
    }
  } catch {
    out = new Response(response.body, response);
    for (const [name, value] of extra) {
      out.headers.set(name, value);
    }
  }
  return out;
};

/** Decides a web request: the caller's `AuthInfo`, or the `Response` to send back. */
export const decideWebRequest = async (
  gate: Gate,
  request: Request,
  readBody: (limit: number) => Promise<WebBody | undefined> = (limit) => readWebBody(request, limit)
): Promise<AuthInfo | Response> => {
  const { headers } = request;
  const result = await gate.decide(
    {
      header: headers.get('authorization') ?? undefined,
      request: mcpRequestInput(request.method, (name) => headers.get(name)),
      dpop: gate.dpop ? { proofs: webDpopProofs(headers), path: targetOf(request) } : undefined,
    },
    readBody
  );
  if (!result) {
    // The client went away while sending the body: nobody reads this answer.
    return new Response(null, { status: 400 });
  }
  if (!result.ok) {
    reportFailure(result, gate.logger, pathOf(request));
    return failureResponse(result);
  }
  if (result.headers && result.headers.length > 0) {
    pendingHeaders.set(result.authInfo, result.headers);
  }
  return result.authInfo;
};
