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

import { type Failure } from './bearer-response.js';
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
  const { status, body, wwwAuthenticate } = failure.response;
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  if (wwwAuthenticate) {
    headers['www-authenticate'] = wwwAuthenticate;
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
  return result.authInfo;
};
