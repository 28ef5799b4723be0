// The stand-in's state in the script's thread: synchronous HTTP (k6's http calls block) through the
// test's thread, the metrics the script and the stand-in record, and the execution context.
import { receiveMessageOnPort, workerData } from 'node:worker_threads';

const { port, signal } = workerData;
const answered = new Int32Array(signal);

/** Sends requests ({method, url, body, headers}) through the test's thread, all at once, and blocks until every answer is in. */
export function send(requests) {
  Atomics.store(answered, 0, 0);
  port.postMessage(requests);
  Atomics.wait(answered, 0, 0);
  const reply = receiveMessageOnPort(port);
  if (!reply) throw new Error('the k6 stand-in lost an answer');
  return reply.message;
}

/** name → { type: 'counter' | 'rate' | 'trend', samples: [{ value, tags }] } */
export const metrics = new Map();

export function record(name, type, value, tags) {
  let metric = metrics.get(name);
  if (!metric) {
    metric = { type, samples: [] };
    metrics.set(name, metric);
  }
  if (metric.type !== type) throw new Error(`metric ${name} is a ${metric.type}, not a ${type}`);
  metric.samples.push({ value: Number(value), tags: Object.assign({}, tags || {}) });
}

/** exec.scenario and exec.vu as the runner sets them for the iteration running now. */
export const execution = { scenario: { name: '', iterationInTest: 0, iterationInInstance: 0 }, vu: { idInTest: 1, idInInstance: 1, iterationInScenario: 0 } };
