// Plays the user at the local authorization server's no-browser login form (see
// tests/e2e/authorization-server/README.md): shared by the e2e MCP clients.

/** Logs in (granting only `firstGrant` the first time) and consents, over HTTP with a cookie jar. */
export class HeadlessUser {
  cookies = new Map();
  loggedIn = false;

  /**
   * @param {string} username
   * @param {string | undefined} firstGrant scopes granted at the first login (all requested when undefined)
   * @param {object} o
   * @param {string} o.redirectUri where the authorization ends; nothing listens there
   * @param {(exchange: object) => void} o.record receives every exchange, for the client's report
   */
  constructor(username, firstGrant, { redirectUri, record }) {
    this.username = username;
    this.firstGrant = firstGrant;
    this.redirectUri = redirectUri;
    this.record = record;
  }

  async request(url, init = {}) {
    const res = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...init.headers, cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    for (const cookie of res.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const at = pair.indexOf('=');
      this.cookies.set(pair.slice(0, at), pair.slice(at + 1));
    }
    return res;
  }

  /** Follows the authorization request to the redirect back to the client; returns its URL. */
  async authorize(authorizationUrl) {
    const scope = authorizationUrl.searchParams.get('scope');
    const resource = authorizationUrl.searchParams.get('resource');
    let url = authorizationUrl;
    let detail = `authorization request: scope=${JSON.stringify(scope)} resource=${JSON.stringify(resource)}`;
    while (!url.href.startsWith(this.redirectUri)) {
      let res = await this.request(url);
      this.record({ method: 'GET', url: url.href, status: res.status, ...(detail && { detail }) });
      detail = undefined;
      if (res.status === 200 && url.pathname.startsWith('/interaction/')) {
        const form = { username: this.username };
        if (!this.loggedIn && this.firstGrant !== undefined) form.scope = this.firstGrant;
        const loginUrl = new URL(`${url.pathname}/login`, url);
        res = await this.request(loginUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams(form),
        });
        this.record({
          method: 'POST', url: loginUrl.href, status: res.status,
          detail: `login as ${this.username}, granting ${JSON.stringify(form.scope ?? 'everything requested')}`,
        });
        this.loggedIn = true;
      }
      const location = res.headers.get('location');
      if (!location) throw new Error(`authorization stopped at ${url}: HTTP ${res.status} ${await res.text()}`);
      url = new URL(location, url);
    }
    return url;
  }
}
