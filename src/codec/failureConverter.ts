// Failure messages and stack traces moved into an encoded payload, so the codec encrypts them like
// every other payload: an activity's error (a git or registry error quoting a URL) and the
// promotion's failure reason are ciphertext in history. Loaded by path (the SDK's
// failureConverterPath) by workers for activities and bundled into the workflow code.
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
