// Which update rejections are sent again (the workflow never judged them) and which are answers.
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { deliverUpdate } from '../../src/client/deliverUpdate';

const rejected = (message: string) =>
  new WorkflowUpdateFailedError('Workflow Update failed', ApplicationFailure.create({ message }));

test('an update the server says no worker processed, or that found no handler yet, is sent again until the workflow answers', async () => {
  const failures = [
    rejected(
      "Workflow Update is rejected because it wasn't processed by worker. Probably, Workflow Update is not supported by the worker.",
    ),
    rejected('No registered handler for update: admission'),
  ];
  let calls = 0;
  const answer = await deliverUpdate(async () => {
    calls++;
    const failure = failures.shift();
    if (failure) throw failure;
    return { accepted: true };
  });
  expect({ answer, calls }).toEqual({ answer: { accepted: true }, calls: 3 });
});

test("the workflow's own rejection is the answer: sent once", async () => {
  let calls = 0;
  const sending = deliverUpdate(async () => {
    calls++;
    throw rejected('not awaiting approval for production: it is at stage deploy in dev');
  });
  await expect(sending).rejects.toMatchObject({
    cause: { message: 'not awaiting approval for production: it is at stage deploy in dev' },
  });
  expect(calls).toBe(1);
});
