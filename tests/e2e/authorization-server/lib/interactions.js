// Login and consent without a browser: one form POST logs the user in and
// consents to the requested scopes (or to the subset named in `scope`).
import { OIDC_SCOPES, USERS } from './config.js';

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(uid, params, error) {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Sign in</title></head><body>
<h1>Sign in to ${escape(params.client_id)}</h1>
${error ? `<p role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
  <label>Username <input name="username" value="alice" autofocus></label>
  <label>Password <input name="password" type="password"></label>
  <label>Scopes to grant <input name="scope" value="${escape(params.scope ?? '')}"></label>
  <button type="submit">Sign in and allow</button>
</form>
<form method="post" action="/interaction/${escape(uid)}/abort"><button>Deny</button></form>
<p>Users: ${Object.keys(USERS).join(', ')} (any password).</p>
</body></html>`;
}

/** Grants the requested scopes, limited to `only` when given; the rest are recorded as rejected. */
async function saveGrant(provider, accountId, { params, grantId }, only) {
  const requested = (params.scope ?? '').split(' ').filter(Boolean);
  const granted = only ? requested.filter((s) => only.has(s)) : requested;
  const rejected = requested.filter((s) => !granted.includes(s));
  const forResource = (list) => list.filter((s) => !OIDC_SCOPES.includes(s));

  // Extending the user's existing grant keeps refresh tokens issued from it valid.
  const existing = grantId && await provider.Grant.find(grantId);
  const grant = existing?.accountId === accountId
    ? existing : new provider.Grant({ accountId, clientId: params.client_id });
  delete grant.rejected; // this answer replaces earlier refusals
  // oidc-provider checks every configured scope at the OP level, and the resource
  // scopes once more per resource indicator.
  if (granted.length) grant.addOIDCScope(granted);
  if (rejected.length) grant.rejectOIDCScope(rejected);
  for (const resource of [params.resource ?? []].flat()) {
    if (forResource(granted).length) grant.addResourceScope(resource, forResource(granted));
    if (forResource(rejected).length) grant.rejectResourceScope(resource, forResource(rejected));
  }
  return grant.save();
}

async function finish(provider, req, res, details, username, scope) {
  const only = scope === undefined ? undefined : new Set(scope.split(/[\s,]+/).filter(Boolean));
  const grantId = await saveGrant(provider, username, details, only);
  await provider.interactionFinished(req, res, {
    login: { accountId: username },
    consent: { grantId },
  }, { mergeWithLastSubmission: false });
}

/**
 * GET  /interaction/:uid         login form; completes at once when only consent is missing,
 *                                with --auto-login <user>, or with login_hint=<known user>
 * POST /interaction/:uid/login   username=alice[&scope=<granted subset>]
 * POST /interaction/:uid/abort   access_denied
 */
export async function handleInteraction(provider, req, res, { uid, action, body, autoLogin }) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');
  const { params } = details;

  if (req.method === 'GET' && !action) {
    // Consent alone (already signed in) is given at once, as are known login hints.
    const signedIn = details.prompt.name === 'consent' ? details.session?.accountId : undefined;
    const user = signedIn ?? (USERS[params.login_hint] ? params.login_hint : autoLogin);
    if (user) return finish(provider, req, res, details, user);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    return res.end(loginPage(uid, params));
  }
  if (req.method === 'POST' && action === 'login') {
    if (!USERS[body.username]) {
      res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' });
      return res.end(loginPage(uid, params, `unknown user ${JSON.stringify(body.username ?? '')}`));
    }
    return finish(provider, req, res, details, body.username, body.scope);
  }
  if (req.method === 'POST' && action === 'abort') {
    return provider.interactionFinished(req, res, {
      error: 'access_denied', error_description: 'the user denied the request',
    }, { mergeWithLastSubmission: false });
  }
  res.writeHead(405).end();
}
