// The canary's failure types have one home (src/canary/errorTypes.ts); these keep its two metrics
// lists consistent with each other and with the activity options of workflows/canaryAnalysis.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MetricsError, NON_RETRYABLE_METRICS_ERRORS, PERMANENT_METRICS_ERRORS } from '../../../src/canary/errorTypes';

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
