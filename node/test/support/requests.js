// Raw HTTP requests for the per-operation tests, and a handler that reports the body it got.
import { createHash } from 'node:crypto';
import http from 'node:http';

export const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** Sends exactly the vector's request over node:http (no header or body rewriting). */
export const send = (url, { method, headers, body }) =>
  new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: res.statusCode,
          headers: res.headers,
          text,
          json: (() => {
            try {
              return JSON.parse(text);
            } catch {
              return undefined;
            }
          })(),
        });
      });
    });
    req.on('error', reject);
    req.end(body);
  });

/** What the handler got: the bytes it read from the stream, `req.rawBody` and `req.body`. */
export const echo = async (req, res) => {
  const chunks = [];
  for await (const chunk of req) {
    chunks.push(chunk);
  }
  const streamed = Buffer.concat(chunks);
  res.json({
    streamed: { length: streamed.length, sha256: sha256(streamed) },
    rawBody: req.rawBody ? { length: req.rawBody.length, sha256: sha256(req.rawBody) } : null,
    body: req.body ?? null,
    subject: req.auth?.subject ?? null,
  });
};
