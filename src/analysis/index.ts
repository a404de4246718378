/** Canary statistics: pure, deterministic, safe to import from Temporal workflow code. */
export * from './fixedHorizon';
export * from './latencyBound';
export * from './sequentialTest';
export * from './simulateCanary';
