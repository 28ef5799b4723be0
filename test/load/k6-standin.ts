import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import { parse } from 'acorn';

/** What one run of a k6 script in the stand-in produced (runner.mjs). */
export interface K6Run {
  /** Exceptions that ended an iteration (k6 would log them and go on). */
  errors: string[];
  iterationsRun: Record<string, number>;
  /** k6's end-of-test summary data, as handleSummary received it. */
  summary: { metrics: Record<string, { type: string; values: Record<string, number>; thresholds?: Record<string, { ok: boolean }> }> };
  /** The files handleSummary asked for (not written) and what it printed. */
  outputs: string[];
  stdout: string;
}

interface StandInRequest {
  method: string;
  url: string;
  body?: string;
  headers: Record<string, string>;
}

const STANDIN = join(__dirname, 'k6-standin');

/**
 * Refuses what k6 0.49's compiler refuses: syntax newer than ES2017 (`?.`, `??`, object spread). The outside load
 * generator runs these files with real k6; a script that only Node can parse fails there.
 */
export function assertK6Syntax(file: string): void {
  parse(readFileSync(file, 'utf8'), { ecmaVersion: 2017, sourceType: 'module' });
}

/**
 * Runs a k6 script (plain JavaScript, as real k6 would take it) in a worker thread with the stand-in's
 * `k6` modules: its setup, `iterations` iterations of every scenario, handleSummary. k6's HTTP calls
 * are synchronous; the stand-in blocks the script's thread while this thread sends its requests.
 */
export async function runK6Script(file: string, env: Record<string, string>, iterations: number, vus = 2): Promise<K6Run> {
  const channel = new MessageChannel();
  const signal = new SharedArrayBuffer(4);
  const answered = new Int32Array(signal);
  const worker = new Worker(join(STANDIN, 'runner.mjs'), {
    workerData: { script: file, env, iterations, vus, port: channel.port2, signal },
    transferList: [channel.port2],
  });
  channel.port1.on('message', (requests: StandInRequest[]) => {
    void Promise.all(requests.map(send)).then((answers) => {
      channel.port1.postMessage(answers);
      Atomics.store(answered, 0, 1);
      Atomics.notify(answered, 0);
    });
  });
  try {
    return await new Promise<K6Run>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the k6 stand-in stopped with ${code} before it finished`)));
    });
  } finally {
    channel.port1.close();
    await worker.terminate();
  }
}

async function send(request: StandInRequest): Promise<{ status: number; body: string; headers: Record<string, string>; duration: number; error?: string }> {
  const started = performance.now();
  try {
    const response = await fetch(request.url, { method: request.method, body: request.body, headers: request.headers });
    const body = await response.text();
    return { status: response.status, body, headers: Object.fromEntries(response.headers.entries()), duration: performance.now() - started };
  } catch (error) {
    // k6 answers status 0 with an error when the request could not be made.
    return { status: 0, body: '', headers: {}, duration: performance.now() - started, error: String(error) };
  }
}
