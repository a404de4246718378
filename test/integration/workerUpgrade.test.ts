// Upgrading Gantry under load, on a real dev server with Worker Deployments: promotions started on
// build 1 wait for approval; build 2 (a workflow change that cannot replay build-1 histories)
// becomes current; new promotions run on build 2, the waiting ones are approved and finish on
// build 1, none fails; build 1 is stopped once visibility shows it drained.
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { freezeEnvironment, listFreezes, unfreezeEnvironment } from '../../src/client/manualFreezes';
import { createConfigRepo } from '../../src/local/configRepo';
import { makeCurrent, moveLongRunningWorkflows } from '../../src/worker/workerDeployment';
import { bundleGantryWorkflows } from '../../src/worker/workflowBundle';
import { parseCodecKeys } from '../../src/codec/codecKeys';
import { gantryDataConverter } from '../../src/codec/dataConverter';
import { startStack, type Stack } from '../harness/devServerStack';
import { pipelineYaml, promotionInput, testDigest } from '../harness/pipelineFile';
import { until } from '../harness/until';
import { bundleBuild2Workflows } from '../harness/versioning/build2Workflows';

const DEPLOYMENT = 'gantry-upgrade';
const BUILD_1 = { name: DEPLOYMENT, buildId: '1.0.0+aaaaaaa' };
const BUILD_2 = { name: DEPLOYMENT, buildId: '1.1.0+bbbbbbb' };
const PER_BUILD = 3;

let stack: Stack;
let yaml: string;

beforeAll(async () => {
  stack = await startStack({ taskQueue: 'upgrade', worker: false });
  // One app per promotion: the upgrade is about builds, so no promotion waits in another's lane.
  const repo = await createConfigRepo({
    dir: stack.dir,
    apps: APPS.map((name) => ({
      name,
      image: `registry.example.com/acme/${name}`,
      overlayPath: (e: string) => `apps/${name}/environments/${e}`,
    })),
    environments: ['dev', 'production'],
  });
  yaml = pipelineYaml(repo, APPS, [{ name: 'dev' }, { name: 'production', approval: true }]);
});
afterAll(async () => {
  await stack?.stop();
});

const APPS = Array.from({ length: 7 }, (_, i) => `web${i + 1}`);
const appOf = new Map<string, string>();
const app = (digest: string) => appOf.get(digest)!;

async function startWaiting(n: number): Promise<string[]> {
  const digests = Array.from({ length: n }, () => testDigest());
  for (const d of digests) appOf.set(d, APPS[appOf.size]);
  await Promise.all(digests.map((d) => stack.gantry.start(promotionInput(yaml, app(d), d))));
  await Promise.all(
    digests.map((d) =>
      until(`${d} awaiting production`, async () =>
        (await stack.gantry.status(app(d), d)).awaitingApproval?.environment === 'production' ? true : undefined,
      ),
    ),
  );
  return digests;
}

async function buildOf(digest: string): Promise<string | undefined> {
  const described = await stack.gantry.handle(app(digest), digest).describe();
  return described.raw.workflowExecutionInfo?.versioningInfo?.deploymentVersion?.buildId ?? undefined;
}

async function startsWithTimer(digest: string): Promise<boolean> {
  const events = (await stack.gantry.handle(app(digest), digest).fetchHistory()).events ?? [];
  const first = events.find(
    (e) =>
      e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_TIMER_STARTED ||
      e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
  );
  return first?.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_TIMER_STARTED;
}

test('waiting promotions finish on the build that started them while new ones run on the new build; the old build drains', async () => {
  const service = stack.gantry.client.workflowService;
  const [bundle1, bundle2] = await Promise.all([bundleGantryWorkflows(), bundleBuild2Workflows()]);

  const build1 = await stack.startWorker({ deployment: BUILD_1, workflowBundle: bundle1 });
  expect(await makeCurrent(service, 'default', BUILD_1, { onlyIfNone: true, identity: 'test' })).toEqual({
    changed: true,
    previous: undefined,
  });
  const old = await startWaiting(PER_BUILD);
  // The freeze registry, a workflow that never ends, starts on build 1 too.
  expect(
    await freezeEnvironment(stack.gantry, { environment: 'qa', by: 'oncall', reason: 'incident 42' }),
  ).toMatchObject({ accepted: true });

  // Release build 2: start its workers, then make it current. Build 1 keeps serving its own.
  const build2 = await stack.startWorker({ deployment: BUILD_2, workflowBundle: bundle2 });
  expect(await makeCurrent(service, 'default', BUILD_2, { onlyIfNone: true, identity: 'test' })).toEqual({
    changed: false,
    current: BUILD_1.buildId,
  });
  expect(await makeCurrent(service, 'default', BUILD_2, { onlyIfNone: false, identity: 'test' })).toEqual({
    changed: true,
    previous: BUILD_1.buildId,
  });
  // What `gantry worker --set-current` does next: the never-ending freeze registry moves to build 2.
  await moveLongRunningWorkflows(service, 'default', 'test');
  const fresh = await startWaiting(PER_BUILD);

  // Everyone approves at once; all finish, each on the build that started it.
  const answers = await Promise.all(
    [...old, ...fresh].map((d) =>
      stack.gantry.decide('approve', app(d), d, { environment: 'production', by: 'alice' }),
    ),
  );
  expect(answers.every((a) => a.accepted)).toBe(true);
  const outcomes = await Promise.all([...old, ...fresh].map((d) => stack.gantry.result(app(d), d)));
  expect(outcomes.map((o) => o.outcome)).toEqual(Array(2 * PER_BUILD).fill('promoted'));
  // Build 2's change really is incompatible: a build-1 history (finished, so the replayer has every
  // event) does not replay on it.
  const oldHistory = await stack.gantry.handle(app(old[0]), old[0]).fetchHistory();
  const dataConverter = gantryDataConverter(parseCodecKeys(stack.codecKeys, 'test keys'));
  await expect(
    Worker.runReplayHistory(
      { workflowBundle: bundle2, dataConverter, replayName: 'build2-on-build1' },
      oldHistory,
      'old',
    ),
  ).rejects.toMatchObject({ name: 'DeterminismViolationError' });

  expect(await Promise.all(old.map(buildOf))).toEqual(Array(PER_BUILD).fill(BUILD_1.buildId));
  expect(await Promise.all(fresh.map(buildOf))).toEqual(Array(PER_BUILD).fill(BUILD_2.buildId));
  expect(await Promise.all(old.map(startsWithTimer))).toEqual(Array(PER_BUILD).fill(false));
  expect(await Promise.all(fresh.map(startsWithTimer))).toEqual(Array(PER_BUILD).fill(true));

  // Drained: no running promotion is pinned to build 1 any more (what the docs tell operators to check).
  const pinnedToBuild1 = `TemporalWorkerDeploymentVersion = '${DEPLOYMENT}:${BUILD_1.buildId}' AND TemporalWorkflowVersioningBehavior = 'Pinned' AND ExecutionStatus = 'Running'`;
  await until('build 1 drained', async () =>
    (await stack.gantry.client.workflow.count(pinnedToBuild1)).count === 0 ? true : undefined,
  );
  expect(
    (
      await stack.gantry.client.workflow.count(
        `WorkflowType = 'promoteArtifact' AND TemporalWorkerDeploymentVersion = '${DEPLOYMENT}:${BUILD_1.buildId}'`,
      )
    ).count,
  ).toBe(PER_BUILD);
  await build1.stop();

  // With build 1 gone, the freeze registry answers from build 2 and promotions keep running there.
  expect(await listFreezes(stack.gantry)).toMatchObject([{ environment: 'qa', reason: 'incident 42' }]);
  expect(await unfreezeEnvironment(stack.gantry, { environment: 'qa', by: 'oncall' })).toMatchObject({
    accepted: true,
    freezes: [],
  });
  const [after] = await startWaiting(1);
  expect(
    (await stack.gantry.decide('approve', app(after), after, { environment: 'production', by: 'alice' })).accepted,
  ).toBe(true);
  expect((await stack.gantry.result(app(after), after)).outcome).toBe('promoted');
  expect(await buildOf(after)).toBe(BUILD_2.buildId);
  await build2.stop();
}, 240_000);
