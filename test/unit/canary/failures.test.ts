// Unwrapping Temporal's failure wrappers: the message people read is the one thrown inside.
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, RetryState } from '@temporalio/common';
import { failureMessage, readFailure } from '../../../src/canary/failures';

const inner = ApplicationFailure.nonRetryable('Prometheus refused query `sum(`: bad_data', 'MetricsQueryInvalid');
const activity = new ActivityFailure(
  'activity failed',
  'readCanaryCounts',
  '1',
  RetryState.NON_RETRYABLE_FAILURE,
  'worker',
  inner,
);

test('failureMessage takes the message from inside an activity or child workflow failure', () => {
  expect(failureMessage(activity)).toBe('Prometheus refused query `sum(`: bad_data');
  const child = new ChildWorkflowFailure(
    'default',
    { workflowId: 'w', runId: 'r' },
    'canaryAnalysis',
    RetryState.NON_RETRYABLE_FAILURE,
    inner,
  );
  expect(failureMessage(child)).toBe('Prometheus refused query `sum(`: bad_data');
  expect(failureMessage(new Error('plain'))).toBe('plain');
  expect(failureMessage('text')).toBe('text');
});

test('readFailure keeps the type the analysis acts on', () => {
  expect(readFailure(activity)).toEqual({
    type: 'MetricsQueryInvalid',
    message: 'Prometheus refused query `sum(`: bad_data',
  });
  expect(readFailure(new Error('timeout'))).toEqual({ message: 'timeout' });
});
