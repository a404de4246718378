// Worker settings chosen from the benchmarks (bench/RESULTS.md); a light module, so the CLI can
// show them in its help without loading the worker.
import { setFlagsFromString } from 'node:v8';

/**
 * Each cached promotion holds ~0.4-0.7 MB (the SDK evaluates the workflow modules per workflow), and
 * most promotions sit for hours waiting for an approval: keeping them all grew a worker by
 * ~0.4 GB per 1,000 in flight. Past this many the least recently used is evicted and replayed from its
 * history (~100 events, milliseconds) when its approval arrives (bench/RESULTS.md, scale).
 */
export const DEFAULT_MAX_CACHED_WORKFLOWS = 250;

/**
 * Old-generation heap for the workflow thread, from the cache size: room for every cached promotion
 * (~0.5 MB each at most) plus the bundle and the SDK (128 MB). Without a limit V8 sizes the heap from
 * the machine's memory (4 GB on a 24 GB host) and lets garbage pile up: with 1,000 promotions approved
 * and drained, a worker caching 150 ended at 512 MB RSS without this limit and 375 MB with it.
 */
export function workflowHeapLimitMb(maxCachedWorkflows: number): number {
  return Math.max(256, 128 + Math.ceil(maxCachedWorkflows * 0.5));
}

/**
 * Applies {@link workflowHeapLimitMb} to the workflow thread the SDK starts next. V8 flags are
 * process-wide and read when an isolate is created, so this must run before Worker.create and only in
 * a process that runs one worker (`gantry worker`), never in a library caller's process.
 */
export function limitWorkflowHeap(maxCachedWorkflows: number): void {
  setFlagsFromString(`--max-old-space-size=${workflowHeapLimitMb(maxCachedWorkflows)}`);
}
