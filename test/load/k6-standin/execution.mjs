// `k6/execution`: the scenario and VU of the iteration running now.
import { execution } from './runtime.mjs';

export default {
  get scenario() {
    return execution.scenario;
  },
  get vu() {
    return execution.vu;
  },
};
