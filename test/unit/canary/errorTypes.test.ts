// The canary's failure types have one home (src/canary/errorTypes.ts), which the workflows'
// retry policies import; this keeps its two metrics lists consistent with each other.
import { MetricsError, NON_RETRYABLE_METRICS_ERRORS, PERMANENT_METRICS_ERRORS } from '../../../src/canary/errorTypes';

test('an error that ends the analysis is one Temporal does not retry', () => {
  for (const type of PERMANENT_METRICS_ERRORS) expect(NON_RETRYABLE_METRICS_ERRORS).toContain(type);
  expect(NON_RETRYABLE_METRICS_ERRORS).not.toContain(MetricsError.Unreachable);
});
