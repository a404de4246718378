// The real parts of a canary test, started together: a stable and a canary instance of the test
// app with their error rates, HAProxy routing between them, Prometheus scraping both (labelled
// track="stable" / "canary"), and a dev-server stack. stop() ends them all.
import { startStack, type Stack } from '../devServerStack';
import { startApp, type CanaryApp } from './app';
import { startHaproxy, type Haproxy } from './haproxy';
import { startPrometheus, type PrometheusServer } from './prometheus';

export interface CanaryRig {
  stack: Stack;
  stable: CanaryApp;
  canary: CanaryApp;
  haproxy: Haproxy;
  prometheus: PrometheusServer;
  /**
   * A pipeline's canary on these parts: 25% through HAProxy, an error-rate analysis of canary
   * against stable on Prometheus (1 s reads, at most 2 min, inconclusive aborts), then 100%.
   */
  canaryConfig(): Record<string, unknown>;
  stop(): Promise<void>;
}

/** The app's error and request counters of one track, as PromQL. */
const errorRate = (track: string) => ({
  errors: `sum(app_errors_total{track="${track}"})`,
  total: `sum(app_requests_total{track="${track}"})`,
});

export async function startCanaryRig(options: {
  taskQueue: string;
  errorRates: { stable: number; canary: number };
  /** Seeds of the two instances' error draws: each test file its own, so runs are repeatable. */
  seeds: { stable: number; canary: number };
}): Promise<CanaryRig> {
  const stable = await startApp('stable', { errorRate: options.errorRates.stable, latencyMs: 0 }, options.seeds.stable);
  const canary = await startApp('canary', { errorRate: options.errorRates.canary, latencyMs: 0 }, options.seeds.canary);
  const [stack, haproxy, prometheus] = await Promise.all([
    startStack({ taskQueue: options.taskQueue }),
    startHaproxy({ stablePort: stable.port, canaryPort: canary.port }),
    startPrometheus([
      { port: stable.port, labels: { track: 'stable' } },
      { port: canary.port, labels: { track: 'canary' } },
    ]),
  ]);
  await prometheus.targetsUp();
  return {
    stack,
    stable,
    canary,
    haproxy,
    prometheus,
    canaryConfig: () => ({
      router: { haproxy: { socket: haproxy.router.socket, backend: haproxy.router.backend } },
      metrics: { prometheus: { url: prometheus.url, timeout: '5s' } },
      onInconclusive: 'abort',
      steps: [
        { setWeight: 25 },
        {
          analysis: {
            errorRate: { canary: errorRate('canary'), stable: errorRate('stable') },
            interval: '1s',
            maxDuration: '2m',
          },
        },
        { setWeight: 100 },
      ],
    }),
    async stop() {
      await stack.stop();
      await Promise.all([haproxy.stop(), prometheus.stop()]);
      await Promise.all([stable.stop(), canary.stop()]);
    },
  };
}
