// Imported first by server.js: stdout carries only the ready line, so oidc-provider's
// notices go to stderr. Its warning about Node.js 20 is dropped: this package's
// tests run on Node.js 20 and cover what the server uses.
const toStderr = (...args) => console.error(...args);
console.log = toStderr;
console.info = toStderr;
const warn = console.warn.bind(console);
console.warn = (first, ...rest) => {
  if (typeof first === 'string' && first.includes('Unsupported runtime')) return;
  warn(first, ...rest);
};
