// The canary's failure types have one home (src/canary/errorTypes.ts); these keep its two metrics
// lists consistent with each other, and the workflows' own copies (until they import them) equal.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MetricsError, NON_RETRYABLE_METRICS_ERRORS, NON_RETRYABLE_ROUTER_ERRORS, PERMANENT_METRICS_ERRORS } from '../../../src/canary/errorTypes';

test('an error that ends the analysis is one Temporal does not retry', () => {
  for (const type of PERMANENT_METRICS_ERRORS) expect(NON_RETRYABLE_METRICS_ERRORS).toContain(type);
  expect(NON_RETRYABLE_METRICS_ERRORS).not.toContain(MetricsError.Unreachable);
});

test("the analysis workflow's nonRetryableErrorTypes are the non-retryable metrics errors", () => {
  // The workflow still spells the list out; this fails when the two drift apart.
  const source = readFileSync(join(__dirname, '../../../workflows/canaryAnalysis.ts'), 'utf8');
  const listed = /nonRetryableErrorTypes: \[([^\]]*)\]/.exec(source)?.[1];
  expect(listed?.split(',').map((s) => s.trim().replace(/^'|'$/g, ''))).toEqual([...NON_RETRYABLE_METRICS_ERRORS]);
});

test("runCanary's non-retryable router errors are the router's", () => {
  const source = readFileSync(join(__dirname, '../../../workflows/runCanary.ts'), 'utf8');
  const listed = /const NON_RETRYABLE_ROUTER_ERRORS = \[([^\]]*)\]/.exec(source)?.[1];
  expect(listed?.split(',').map((s) => s.trim().replace(/^'|'$/g, ''))).toEqual([...NON_RETRYABLE_ROUTER_ERRORS]);
});
