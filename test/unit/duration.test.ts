import { formatDuration, parseDuration } from '../../src/pipeline/duration';
import { digestError, promotionWorkflowId, shortDigest } from '../../src/pipeline/digest';

test('durations', () => {
  expect(parseDuration('250ms')).toBe(250);
  expect(parseDuration('1h30m')).toBe(5_400_000);
  expect(parseDuration('3d')).toBe(259_200_000);
  expect(() => parseDuration('10 minutes')).toThrow(
    '"10 minutes" is not a duration: write it like 30s, 10m, 72h or 1h30m',
  );
  expect(formatDuration(259_200_000)).toBe('3d');
  expect(formatDuration(5_400_500)).toBe('1h30m1s');
  expect(formatDuration(12)).toBe('12ms');
});

test('digests and workflow ids', () => {
  const d = `sha256:${'ab'.repeat(32)}`;
  expect(digestError(d)).toBeUndefined();
  expect(digestError('ab'.repeat(32))).toBe('digest must start with "sha256:" (got abababababab...)');
  expect(digestError(`sha256:${'AB'.repeat(32)}`)).toBe('digest must be sha256:<64 lowercase hex characters>');
  expect(promotionWorkflowId('web', d)).toBe(`promote/web/${d}`);
  expect(shortDigest(d)).toBe('sha256:abababababab');
});
