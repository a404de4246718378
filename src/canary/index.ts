/** Canary rollouts: the resolved plan, its resolution from gantry.yaml, and the pure analysis state. */
export * from './types';
export * from './analysisState';
