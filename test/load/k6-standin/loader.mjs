// Module resolution hook of the k6 stand-in (runner.mjs): `k6`, `k6/http`, `k6/execution` and `k6/metrics`
// resolve to the stand-in's own modules; any other `k6/...` module is refused, so a script that starts to
// use one fails here before it reaches real k6 untested.
const MODULES = { k6: 'k6.mjs', 'k6/http': 'http.mjs', 'k6/execution': 'execution.mjs', 'k6/metrics': 'metrics.mjs' };

export async function resolve(specifier, context, next) {
  if (Object.prototype.hasOwnProperty.call(MODULES, specifier)) return { url: new URL(MODULES[specifier], import.meta.url).href, shortCircuit: true };
  if (specifier === 'k6' || specifier.startsWith('k6/')) throw new Error(`the k6 stand-in has no module ${specifier}: add it to test/load/k6-standin`);
  const resolved = await next(specifier, context);
  // k6 takes every script as an ES module; say so, rather than let Node guess (and warn) per file.
  return resolved.url.endsWith('.js') && resolved.url.startsWith('file:') ? Object.assign({}, resolved, { format: 'module' }) : resolved;
}
