/**
 * The body of a request to an MCP endpoint with per-operation rules: read once, bounded, handed
 * to core as bytes, and left for whatever reads it next (the MCP SDK transport, `express.json()`,
 * the application).
 *
 * Core decides on the raw bytes because the SDK behind reads the body again: whatever two
 * parsers could read differently (duplicate keys, lenient JSON, another charset) is refused.
 * Where the bytes come from:
 *
 * - Nobody read the body yet (`bearerAuth` before `express.json()`): it is read here, at most
 *   `limit` bytes. When the request is let through, `req.body` is the parsed JSON (what
 *   `transport.handleRequest(req, res, req.body)` takes), `req.rawBody` the bytes (which the
 *   SDK's Node transport reads when it is not given a parsed body), and the bytes are put back
 *   into the request stream, so a later `express.json()`, `raw-body` or `for await (... of req)`
 *   reads them as sent.
 * - Someone read it already and kept the bytes (`req.rawBody`, e.g. from
 *   `express.json({ verify: (req, _res, buf) => { req.rawBody = buf } })`, or a `Buffer` body
 *   from `express.raw()`): core checks those bytes.
 * - Only a parsed body is left (`express.json()` ran first): core checks the JSON text of that
 *   value. The body's own spelling is then out of reach (duplicate keys were resolved by
 *   `JSON.parse`, last one wins; its charset was decoded by body-parser), but everything after
 *   this point reads the same `req.body`, so the decision is about what the application will
 *   do. A value JSON cannot carry as it is (numbers that overflowed to `Infinity`, values a
 *   `reviver` made), or a consumed body with nothing left of it, is refused as a parse error:
 *   what cannot be checked is not let through.
 */
import type { IncomingMessage } from 'node:http';

import type { Request, Response } from 'express';

import type { McpRequestInput } from '../../native/index.js';

type WithRawBody = Request & { rawBody?: unknown; _body?: boolean };

/** The body bytes for a decision, and whether this middleware read them from the stream. */
export type DecisionBody = {
  bytes?: Buffer;
  /** Read here: on success, `req.body` / `req.rawBody` are set from these bytes. */
  fresh: boolean;
  /** False when the read stopped at the limit with more of the body still unsent. */
  complete: boolean;
};

/** All fields of a header as sent, several joined with `", "` (Node keeps only the first of some). */
const header = (req: IncomingMessage, name: string): string | undefined =>
  req.headersDistinct?.[name]?.join(', ') ??
  (req.headers[name] === undefined ? undefined : [req.headers[name]].flat().join(', '));

/**
 * The request as core reads it, from any framework's header lookup (`get` answers every field
 * of a header as sent, joined with `", "`); the body is added when `bodyLimit` asks for it.
 */
export const mcpRequestInput = (
  method: string,
  get: (name: string) => string | undefined | null
): Omit<McpRequestInput, 'body'> => ({
  method,
  contentType: get('content-type') ?? undefined,
  contentLength: get('content-length') ?? undefined,
  protocolVersion: get('mcp-protocol-version') ?? undefined,
  mcpMethod: get('mcp-method') ?? undefined,
  mcpName: get('mcp-name') ?? undefined,
});

/** An Express (or plain `node:http`) request as core reads it. */
export const mcpRequest = (req: IncomingMessage): Omit<McpRequestInput, 'body'> =>
  mcpRequestInput(req.method ?? 'GET', (name) => header(req, name));

const asBuffer = (value: Uint8Array) =>
  Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);

const isPlainObject = (value: object) => {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

/** The JSON text of a parsed body, or `undefined` when JSON cannot carry the value as it is. */
const jsonText = (value: unknown): string | undefined => {
  let faithful = true;
  let text: string | undefined;
  try {
    text = JSON.stringify(value, function check(this: unknown, key: string, v: unknown) {
      // The value before any `toJSON`, to see what the parser really produced.
      const original: unknown = (this as Record<string, unknown>)[key];
      const ok =
        original === null ||
        typeof original === 'string' ||
        typeof original === 'boolean' ||
        (typeof original === 'number' && Number.isFinite(original)) ||
        (typeof original === 'object' && (Array.isArray(original) || isPlainObject(original)));
      if (!ok) {
        faithful = false;
      }
      return v;
    });
  } catch {
    return undefined;
  }
  return faithful ? text : undefined;
};

/** Whether something before this middleware read the request stream. */
const consumed = (req: Request) =>
  req.readableDidRead || req.readableEnded || (req.complete && !req.readable);

/** The bytes left by whoever read the body before; empty when none can be trusted. */
const bodyReadBefore = (req: WithRawBody): Buffer => {
  if (req.rawBody instanceof Uint8Array) {
    return asBuffer(req.rawBody);
  }
  const { body } = req as { body: unknown };
  if (body instanceof Uint8Array) {
    return asBuffer(body);
  }
  if (typeof body === 'string') {
    return Buffer.from(body, 'utf8');
  }
  if (body === undefined) {
    return Buffer.alloc(0);
  }
  const text = jsonText(body);
  return text === undefined ? Buffer.alloc(0) : Buffer.from(text, 'utf8');
};

/**
 * Reads at most `limit` bytes of the request. A complete body is put back at the front of the
 * stream before it ends (documented `readable.unshift`), so later readers get it unchanged;
 * a body cut at the limit is not (the request is refused and the connection closed).
 * Resolves `undefined` when the client goes away.
 */
const readBounded = (req: Request, limit: number): Promise<DecisionBody | undefined> =>
  new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (result: DecisionBody | undefined) => {
      done = true;
      req.off('readable', onReadable);
      req.off('end', onEnd);
      req.off('error', onGone);
      req.off('close', onGone);
      resolve(result);
    };
    const bytes = () => Buffer.concat(chunks, size);
    function onReadable() {
      let chunk: Buffer | string | null;
      while (!done && (chunk = req.read() as Buffer | string | null) !== null) {
        const b = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
        chunks.push(b);
        size += b.length;
        if (size >= limit) {
          // Too large whatever follows: core answers 413 from these bytes.
          const complete = req.complete && req.readableLength === 0;
          finish({ bytes: bytes().subarray(0, limit), fresh: true, complete });
          return;
        }
      }
      // `complete` is set before the stream's end is pushed, and `end` is emitted only after
      // this handler returns: putting the bytes back now keeps them for the next reader.
      if (!done && req.complete) {
        const all = bytes();
        if (all.length > 0) {
          req.unshift(all);
        }
        finish({ bytes: all, fresh: true, complete: true });
      }
    }
    function onEnd() {
      if (!done) {
        finish({ bytes: bytes(), fresh: true, complete: true });
      }
    }
    function onGone() {
      if (!done && req.complete) {
        // Everything arrived before the failure: what is buffered is the whole body.
        onReadable();
      }
      if (!done) {
        finish(undefined);
      }
    }
    req.on('readable', onReadable);
    req.on('end', onEnd);
    req.on('error', onGone);
    req.on('close', onGone);
  });

/**
 * The body to decide on, for a request `bodyLimit` answered `limit` for. `undefined` when the
 * client went away before sending it.
 */
export const decisionBody = async (
  req: Request,
  limit: number
): Promise<DecisionBody | undefined> => {
  if (consumed(req)) {
    return { bytes: bodyReadBefore(req), fresh: false, complete: true };
  }
  if (limit === 0) {
    // Content-Length already says it is too large: nothing is read.
    return { fresh: false, complete: false };
  }
  return readBounded(req, limit);
};

/** After a request was let through: the body it was decided on, for the handlers behind. */
export const keepBody = (req: Request, body: DecisionBody | undefined) => {
  if (!body?.fresh || !body.bytes) {
    return;
  }
  const r = req as WithRawBody;
  r.rawBody = body.bytes;
  // Core accepted these bytes as strict UTF-8 JSON, so JSON.parse reads them the same way.
  r.body = JSON.parse(body.bytes.toString('utf8')) as unknown;
  // body-parser 1.x skips a request whose `_body` is set (2.x sees the stream state).
  r._body = true;
};

/**
 * A refused request whose body was not read to its end: the connection is closed after the
 * answer instead of reading (and discarding) the rest.
 */
export const closeIfCut = (res: Response, body: DecisionBody | undefined) => {
  if (body && !body.complete) {
    res.set('Connection', 'close');
  }
};
