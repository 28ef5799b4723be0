// `k6/metrics`: custom metrics, summarised by the runner like k6's end-of-test summary.
import { record } from './runtime.mjs';

function metricClass(type) {
  return class {
    constructor(name) {
      if (!/^[A-Za-z0-9_]{1,128}$/.test(name)) throw new Error(`k6 refuses the metric name ${name}`);
      this.name = name;
    }
    add(value, tags) {
      record(this.name, type, type === 'rate' ? (value ? 1 : 0) : value, tags);
    }
  };
}

export const Counter = metricClass('counter');
export const Rate = metricClass('rate');
export const Trend = metricClass('trend');
export const Gauge = metricClass('gauge');
