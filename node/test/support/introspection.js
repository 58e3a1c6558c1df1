// A real RFC 7662 introspection endpoint on 127.0.0.1 for the tests: it authenticates the
// resource server (HTTP Basic or form fields, as RFC 6749 §2.3.1 encodes them) and answers per
// token.
import http from 'node:http';

import { close, listen } from './servers.js';

const formDecode = (text) => decodeURIComponent(text.replace(/\+/g, ' '));

/** `{ id, secret }` from `Authorization: Basic base64(enc(id):enc(secret))`, else undefined. */
const basicCredentials = (header) => {
  const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
  if (!match) {
    return undefined;
  }
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) {
    return undefined;
  }
  return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
};

/**
 * Starts the endpoint. `clientId`/`clientSecret` are the credentials it accepts (by either
 * method); `answers` maps a token to `{ status, json }` or `{ status, text }` (a plain object is
 * taken as a 200 JSON answer); unknown tokens are inactive. `delayMs` holds every answer back.
 * `requests` records what each request carried; `reset()` clears it.
 */
export const startIntrospection = async ({
  clientId,
  clientSecret,
  answers = new Map(),
  path = '/introspect',
  delayMs = 0,
} = {}) => {
  const requests = [];
  const state = { delayMs };
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', async () => {
      const send = (status, payload, type = 'application/json') => {
        if (res.destroyed) {
          return;
        }
        res.writeHead(status, { 'content-type': type });
        res.end(type === 'application/json' ? JSON.stringify(payload) : payload);
      };
      const form = new URLSearchParams(body);
      const basic = basicCredentials(req.headers.authorization);
      const posted = form.has('client_id')
        ? { id: form.get('client_id'), secret: form.get('client_secret') }
        : undefined;
      requests.push({
        method: req.method,
        path: new URL(req.url, 'http://x').pathname,
        contentType: req.headers['content-type'],
        token: form.get('token'),
        tokenTypeHint: form.get('token_type_hint'),
        auth: basic ? 'client_secret_basic' : posted ? 'client_secret_post' : 'none',
        userAgent: req.headers['user-agent'],
        headers: req.headers,
      });
      if (state.delayMs) {
        await new Promise((r) => setTimeout(r, state.delayMs));
      }
      await state.gate;
      if (
        req.method !== 'POST' ||
        new URL(req.url, 'http://x').pathname !== path ||
        !req.headers['content-type']?.startsWith('application/x-www-form-urlencoded') ||
        form.get('token_type_hint') !== 'access_token' ||
        !form.has('token')
      ) {
        return send(400, { error: 'invalid_request' });
      }
      const credentials = basic && posted ? undefined : (basic ?? posted);
      if (!credentials || credentials.id !== clientId || credentials.secret !== clientSecret) {
        return send(401, { error: 'invalid_client' });
      }
      const answer = answers.get(form.get('token'));
      if (answer === undefined) {
        return send(200, { active: false });
      }
      if (!('status' in answer)) {
        return send(200, answer);
      }
      return 'text' in answer
        ? send(answer.status, answer.text, 'text/html')
        : send(answer.status, answer.json);
    });
  });
  const base = await listen(server);
  return {
    url: `${base}${path}`,
    answers,
    requests,
    /** Makes every later answer wait `ms` (0: answer at once). */
    setDelay: (ms) => {
      state.delayMs = ms;
    },
    /** Holds every answer back until the returned function is called. */
    hold: () => {
      let release;
      state.gate = new Promise((r) => {
        release = r;
      });
      return () => {
        state.gate = undefined;
        release();
      };
    },
    reset: () => {
      requests.length = 0;
    },
    close: () => close(server),
  };
};
