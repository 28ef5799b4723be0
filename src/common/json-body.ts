import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isUtf8 } from 'node:buffer';
import { DomainError, JsonTooDeepError, MalformedJsonError, RefusedKeyError } from './domain-error';

/** Parses a JSON request body, as a Fastify content-type parser does; errors are DomainErrors in the contract's terms. */
export type JsonBodyParser = (request: FastifyRequest, body: string, done: (error: DomainError | null, value?: unknown) => void) => void;

const parsers = new WeakMap<FastifyInstance, JsonBodyParser>();

/**
 * The one JSON parser of every body reader: the content-type parser of every route (see createApp)
 * and the gate route's own reading. In order, before anything walks the value: a body nested deeper
 * than `maxDepth` is 400 JSON_TOO_DEEP (counted on the text, without recursion, so neither the
 * parser nor class-transformer nor any check after it can overflow the stack); text that is not
 * JSON is 400 MALFORMED_JSON; JSON with a key that could poison prototypes is 400 REFUSED_KEY
 * (Fastify's parser, secure-json-parse, finds them).
 */
export function installJsonBodyParser(fastify: FastifyInstance, maxDepth: number): JsonBodyParser {
  const parseSafely = fastify.getDefaultJsonParser('error', 'error');
  const parser: JsonBodyParser = (request, body, done) => {
    if (nestingExceeds(body, maxDepth)) return done(new JsonTooDeepError(maxDepth));
    void parseSafely(request, body, (error: Error | null, value?: unknown) => {
      if (!error) return done(null, value);
      done(parsesAsPlainJson(body) ? new RefusedKeyError() : new MalformedJsonError());
    });
  };
  parsers.set(fastify, parser);
  return parser;
}

/** The parser installJsonBodyParser gave this Fastify instance. */
export function jsonBodyParserOf(fastify: FastifyInstance): JsonBodyParser {
  const parser = parsers.get(fastify);
  if (!parser) throw new Error('installJsonBodyParser must run before a route reads JSON');
  return parser;
}

/** A body's bytes as text, or 400 MALFORMED_JSON when they are not UTF-8 (JSON text must be). */
export function utf8Text(body: Buffer): string {
  if (!isUtf8(body)) throw new MalformedJsonError('The body is not valid UTF-8; JSON text must be UTF-8');
  return body.toString('utf8');
}

/** True when arrays and objects nest deeper than `maxDepth` anywhere in the text; brackets inside strings do not count. */
export function nestingExceeds(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === 0x5c /* \ */) index++;
      else if (code === 0x22 /* " */) inString = false;
    } else if (code === 0x22) {
      inString = true;
    } else if (code === 0x7b /* { */ || code === 0x5b /* [ */) {
      if (++depth > maxDepth) return true;
    } else if (code === 0x7d /* } */ || code === 0x5d /* ] */) {
      depth--;
    }
  }
  return false;
}

/** Only reached for text the safe parser refused, and only once its depth is known to be small. */
function parsesAsPlainJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
