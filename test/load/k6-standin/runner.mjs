// The k6 stand-in's script thread (test/load/k6-standin.ts starts it): runs a k6 script's init code,
// setup, a few iterations of every scenario's function and handleSummary, as k6 would with one VU, so
// that the scripts the outside load generator runs are exercised against the real service in CI.
// Not a load generator: one request at a time (http.batch all at once), no pacing, no stages.
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

register('./loader.mjs', import.meta.url);
const { execution, metrics } = await import('./runtime.mjs');

globalThis.__ENV = Object.assign({}, workerData.env);
globalThis.__VU = 0;
globalThis.__ITER = 0;

const script = await import(pathToFileURL(workerData.script).href);
const options = script.options || {};
const copy = (value) => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));

const errors = [];
// Setup runs in VU 0; its data reaches every VU as a JSON copy.
const data = copy(script.setup ? script.setup() : undefined);
const scenarios = options.scenarios || { default: { executor: 'shared-iterations' } };
const iterationsRun = {};
for (const name of Object.keys(scenarios)) {
  const exec = scenarios[name].exec || 'default';
  if (typeof script[exec] !== 'function') throw new Error(`scenario ${name} runs ${exec}, which the script does not export`);
  iterationsRun[name] = 0;
  for (let iteration = 0; iteration < workerData.iterations; iteration++) {
    const vu = 1 + (iteration % workerData.vus);
    execution.scenario = { name, executor: scenarios[name].executor, iterationInTest: iteration, iterationInInstance: iteration };
    execution.vu = { idInTest: vu, idInInstance: vu, iterationInScenario: Math.floor(iteration / workerData.vus) };
    globalThis.__VU = vu;
    globalThis.__ITER = execution.vu.iterationInScenario;
    try {
      script[exec](data);
      iterationsRun[name]++;
    } catch (error) {
      // k6 logs an exception, ends that iteration and goes on; the stand-in reports it.
      errors.push(`${name} iteration ${iteration}: ${error && error.stack ? error.stack : String(error)}`);
    }
  }
}
if (script.teardown) script.teardown(data);

const summary = summarise(options);
const outputs = script.handleSummary ? script.handleSummary(summary) : {};
parentPort.postMessage({ errors, iterationsRun, summary, outputs: Object.keys(outputs), stdout: typeof outputs.stdout === 'string' ? outputs.stdout : '' });

/** k6's end-of-test summary data: every metric's values, sub-metrics that thresholds name, thresholds evaluated. */
function summarise(options) {
  const stats = options.summaryTrendStats || ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)'];
  const thresholds = options.thresholds || {};
  const result = { metrics: {}, options: { summaryTrendStats: stats }, state: { isStdOutTTY: false, testRunDurationMs: 0 } };
  for (const [name, metric] of metrics) result.metrics[name] = { type: metric.type, values: valuesOf(metric.type, metric.samples, stats) };
  for (const expression of Object.keys(thresholds)) {
    const match = /^([A-Za-z0-9_]+)(?:\{(.+)\})?$/.exec(expression);
    if (!match) throw new Error(`k6 refuses the threshold metric ${expression}`);
    const base = metrics.get(match[1]);
    if (!base) {
      // k6 fails a threshold on a metric nothing records only for custom metrics never defined; keep it visible.
      result.metrics[expression] = { type: 'unknown', values: {}, thresholds: {} };
      continue;
    }
    let entry = result.metrics[expression];
    let samples = base.samples;
    if (match[2]) {
      const [tag, value] = match[2].split(':');
      samples = base.samples.filter((sample) => sample.tags[tag.trim()] === value.trim());
      entry = { type: base.type, contains: 'default', values: valuesOf(base.type, samples, stats.concat(['count'])) };
      result.metrics[expression] = entry;
    }
    entry.thresholds = {};
    for (const condition of thresholds[expression]) {
      const text = typeof condition === 'string' ? condition : condition.threshold;
      entry.thresholds[text] = { ok: holds(text, base.type, samples) };
    }
  }
  return result;
}

function valuesOf(type, samples, stats) {
  const values = samples.map((sample) => sample.value);
  if (type === 'counter') return { count: values.reduce((a, b) => a + b, 0), rate: 0 };
  if (type === 'rate') {
    const passes = values.filter((value) => value !== 0).length;
    return { rate: values.length ? passes / values.length : 0, passes, fails: values.length - passes };
  }
  if (type === 'gauge') return { value: values.length ? values[values.length - 1] : 0, min: Math.min(...values), max: Math.max(...values) };
  const sorted = values.slice().sort((a, b) => a - b);
  const out = {};
  for (const stat of stats) {
    if (stat === 'avg') out.avg = sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : 0;
    else if (stat === 'min') out.min = sorted.length ? sorted[0] : 0;
    else if (stat === 'max') out.max = sorted.length ? sorted[sorted.length - 1] : 0;
    else if (stat === 'med') out.med = percentile(sorted, 50);
    else if (stat === 'count') out.count = sorted.length;
    else {
      const p = /^p\(([\d.]+)\)$/.exec(stat);
      if (!p) throw new Error(`k6 refuses the summary stat ${stat}`);
      out[stat] = percentile(sorted, Number(p[1]));
    }
  }
  return out;
}

function percentile(sorted, p) {
  if (!sorted.length) return 0;
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  return sorted[low] + (sorted[Math.min(low + 1, sorted.length - 1)] - sorted[low]) * (rank - low);
}

/** A threshold such as `rate<0.001`, `p(95)<20` or `count>0` against the metric's samples. */
function holds(text, type, samples) {
  const match = /^\s*([a-z]+(?:\([\d.]+\))?)\s*(<=|>=|==|===|!=|<|>)\s*([\d.]+)\s*$/.exec(text);
  if (!match) throw new Error(`the k6 stand-in cannot read the threshold ${text}`);
  const [, stat, op, number] = match;
  const value = valuesOf(type, samples, type === 'trend' ? [stat] : [])[stat];
  const limit = Number(number);
  return { '<': value < limit, '<=': value <= limit, '>': value > limit, '>=': value >= limit, '==': value === limit, '===': value === limit, '!=': value !== limit }[op];
}
