// 4. History size: events and bytes per promotion of the reference pipeline, against Temporal's
// limits (warning at 10,240 events / 10 MB, hard limit 51,200 events / 50 MB). Read both ways: the
// Temporal CLI (`temporal workflow show --output json`, what an operator sees) and the client's
// fetchHistory (protobuf, what the server stores and counts). Baseline: the bare workflow with
// the same number of activities.
import { execFileSync } from 'node:child_process';
import { GantryClient } from '../src/client/gantryClient';
import { toolPath } from '../src/local/tools';
import type { Client } from '@temporalio/client';
import {
  activitiesOf,
  CANARY_4_STEPS,
  historyBytes,
  historyOf,
  log,
  ratio,
  referencePipelineYaml,
  referenceRepo,
  REFERENCE_ACTIVITIES,
  spawnBenchWorker,
  startBenchServer,
  table,
  type BenchContext,
  type Section,
} from './benchKit';
import { promoteReference } from './orchestrationOverhead';

const LIMITS = { warnEvents: 10_240, hardEvents: 51_200, warnBytes: 10 * 2 ** 20, hardBytes: 50 * 2 ** 20 };

function cliHistory(address: string, workflowId: string): { events: number; jsonBytes: number } {
  const out = execFileSync(
    toolPath('temporal'),
    [
      'workflow',
      'show',
      '--address',
      address,
      '--namespace',
      'default',
      '--workflow-id',
      workflowId,
      '--output',
      'json',
    ],
    {
      encoding: 'utf8',
      maxBuffer: 256 * 2 ** 20,
    },
  );
  const parsed = JSON.parse(out) as { events?: unknown[] };
  return { events: parsed.events?.length ?? NaN, jsonBytes: Buffer.byteLength(out) };
}

async function analysisReads(client: Client, workflowId: string): Promise<number> {
  return activitiesOf(await historyOf(client, workflowId)).filter((a) => a.type === 'readCanaryCounts').length;
}

export async function historySize(ctx: BenchContext): Promise<Section> {
  const srv = await startBenchServer(ctx, 'history', 'bench-history');
  try {
    const instant = await spawnBenchWorker(ctx, srv.address, {
      gantryQueue: 'bench-history',
      bareQueue: 'bench-history-bare',
      activities: 'instant',
    });
    const gitops = await spawnBenchWorker(ctx, srv.address, {
      gantryQueue: 'bench-history-gitops',
      activities: 'gitops',
    });
    const { yaml, repo } = await referenceRepo(ctx, 'history', ['web']);
    log('history: one promotion per variant');
    const measured: { name: string; workflowId: string }[] = [];
    const bareId = `bare-history-${Date.now()}`;
    await srv.client.workflow.execute('bareWorkflow', {
      taskQueue: 'bench-history-bare',
      workflowId: bareId,
      args: [REFERENCE_ACTIVITIES],
    });
    measured.push({ name: `bare workflow, ${REFERENCE_ACTIVITIES} no-op activities (baseline)`, workflowId: bareId });
    measured.push({
      name: 'reference pipeline, instant bench activities',
      workflowId: (await promoteReference(srv.gantry, srv.client, yaml, 'web')).workflowId,
    });
    const gitClient = new GantryClient(srv.client, 'bench-history-gitops');
    measured.push({
      name: 'reference pipeline, real gitops deploy',
      workflowId: (await promoteReference(gitClient, srv.client, yaml, 'web')).workflowId,
    });
    // The same with a 4-step canary in production (router and metric reads are bench overrides).
    const canaryYaml = referencePipelineYaml(repo, ['web'], CANARY_4_STEPS);
    const canary = await promoteReference(srv.gantry, srv.client, canaryYaml, 'web');
    measured.push({
      name: 'reference pipeline + 4-step canary in production (setWeight 25, pause 1s, analysis, setWeight 100)',
      workflowId: canary.workflowId,
    });
    const children = (await historyOf(srv.client, canary.workflowId))
      .map((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId)
      .filter((id): id is string => !!id);
    let childEvents = 0;
    for (const id of children) childEvents += (await historyBytes(srv.client, id)).events;
    for (const id of children)
      measured.push({
        name: `its canary analysis (child workflow ${id.split('/').slice(-3).join('/')}), ${await analysisReads(srv.client, id)} reads`,
        workflowId: id,
      });
    await Promise.all([instant.kill(), gitops.kill()]);

    const rows: (string | number)[][] = [];
    let reference = { events: 0, bytes: 0 };
    let baseline = { events: 0, bytes: 0 };
    let canaryEvents = 0;
    const breakdown = new Map<string, number>();
    for (const [i, m] of measured.entries()) {
      const proto = await historyBytes(srv.client, m.workflowId);
      const cli = cliHistory(srv.address, m.workflowId);
      if (i === 0) baseline = proto;
      if (m.workflowId === canary.workflowId) canaryEvents = proto.events;
      if (i === 1) {
        reference = proto;
        for (const e of await historyOf(srv.client, m.workflowId)) {
          const attrs = Object.keys(e).find((k) => k.endsWith('EventAttributes') && (e as Record<string, unknown>)[k]);
          const type = (attrs ?? 'unknown').replace(/EventAttributes$/, '');
          breakdown.set(type, (breakdown.get(type) ?? 0) + 1);
        }
      }
      rows.push([
        m.name,
        proto.events,
        cli.events,
        `${(proto.bytes / 1024).toFixed(1)} KiB`,
        `${(cli.jsonBytes / 1024).toFixed(1)} KiB`,
        i === 0
          ? '1.00× (baseline)'
          : `${ratio(proto.events, baseline.events)} / ${ratio(proto.bytes, baseline.bytes)}`,
        `${((100 * proto.events) / LIMITS.warnEvents).toFixed(2)}% / ${((100 * proto.bytes) / LIMITS.warnBytes).toFixed(3)}%`,
        `${((100 * proto.events) / LIMITS.hardEvents).toFixed(2)}% / ${((100 * proto.bytes) / LIMITS.hardBytes).toFixed(3)}%`,
      ]);
    }
    const types = [...breakdown.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([t, n]) => `${t} ${n}`)
      .join(', ');
    const promotionsBeforeWarn = Math.floor(LIMITS.warnEvents / reference.events);
    return {
      title: '4. History size per promotion',
      caption:
        "One promotion of the reference pipeline (production approval by update; no soak; without and with a 4-step canary), history read with `temporal workflow show --output json` (events, JSON bytes) and the client's fetchHistory " +
        '(events, protobuf bytes: what the server stores and counts against its limits). Limits: warning 10,240 events / 10 MB, hard 51,200 events / 50 MB.',
      table: table(
        [
          'workflow',
          'events',
          'events (CLI)',
          'bytes (protobuf)',
          'bytes (CLI JSON)',
          'ratio to baseline (events / bytes)',
          'of warn limit (events / bytes)',
          'of hard limit (events / bytes)',
        ],
        rows,
      ),
      notes: [
        `Target < 200 events for the reference pipeline with a 4-step canary: ${canaryEvents} in the promotion's history, ${canaryEvents + childEvents} counting its analysis child's too — ${canaryEvents + childEvents < 200 ? 'met' : 'not met'} (without the canary ${reference.events}). The event warning limit is about ${promotionsBeforeWarn}× the reference pipeline's length; the bytes are far further away.`,
        `Event types (instant row): ${types}.`,
        'Each activity costs 3 events (scheduled, started, completed) plus the workflow task that reacts to it (3 more); health polls and heartbeats add none. The approval adds the update (accepted, completed) and the search attribute upserts.',
        `4-step canary: ${canaryEvents - reference.events} more events in the promotion's history than without it (${canaryEvents} in all); each analysis is a child workflow with a history of its own (row below it), which continues as new every 100 reads (docs/canary.md).`,
      ],
      headline: [
        `History per reference promotion: ${reference.events} events, ${(reference.bytes / 1024).toFixed(1)} KiB (bare workflow with the same ${REFERENCE_ACTIVITIES} activities: ${baseline.events} events); ${((100 * reference.events) / LIMITS.warnEvents).toFixed(1)}% of the 10,240-event warning limit; with a 4-step canary ${canaryEvents} events, ${canaryEvents + childEvents} with its analysis child (target < 200).`,
      ],
    };
  } finally {
    await srv.stop();
  }
}
