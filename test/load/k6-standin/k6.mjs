// `k6`: check, group, sleep.
import { record } from './runtime.mjs';

export function check(value, sets, tags) {
  let all = true;
  for (const name of Object.keys(sets)) {
    const ok = Boolean(sets[name](value));
    record('checks', 'rate', ok ? 1 : 0, Object.assign({ check: name }, tags || {}));
    all = all && ok;
  }
  return all;
}

export function group(name, body) {
  return body();
}

/** Sleeps for real, at most 100 ms: the stand-in runs a few iterations, not a load. */
export function sleep(seconds) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.min(100, Math.max(0, seconds * 1000)));
}

export default { check, group, sleep };
