import fastifyStatic from '@fastify/static';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Where the console's pages live: beside this file, in the sources and in dist/ alike (nest-cli copies them). */
export const CONSOLE_ROOT = join(__dirname, 'public');
export const CONSOLE_PREFIX = '/console/';

/**
 * The pages may load only what the service itself serves, and call only its API: no CDN, no
 * third-party origin. Chart.js sets inline styles on its canvases, hence 'unsafe-inline' for styles.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/**
 * Serves the operators' console at /console/: its static pages, and Chart.js from the installed
 * package (its UMD build, read once at boot). The pages use the public API with the user's token.
 */
export async function serveConsole(app: NestFastifyApplication): Promise<void> {
  const chartJs = readFileSync(join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'));
  const fastify = app.getHttpAdapter().getInstance();
  fastify.get('/console/vendor/chart.umd.min.js', async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=86400').send(chartJs),
  );
  await app.register(fastifyStatic, {
    root: CONSOLE_ROOT,
    prefix: CONSOLE_PREFIX,
    // One route per file present at boot: nothing else under /console/ is ever read from disk.
    wildcard: false,
    index: 'index.html',
    redirect: true,
    decorateReply: false,
    cacheControl: false,
    setHeaders: (reply) => {
      void reply.headers({ 'content-security-policy': CONTENT_SECURITY_POLICY, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'cache-control': 'no-cache' });
    },
  });
}
