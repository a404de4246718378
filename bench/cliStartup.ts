// 8. CLI start-up: how long a person waits for the first line of `gantry`. Measured side by side in
// one run, interleaved round by round so the shared machine's load hits every command alike:
// `node -e ''` (node alone), `gantry --help` (node + loading the CLI), and `gantry status <app>
// <digest>` against a dev server with a worker, for a promotion waiting for its approval (the
// status a user asks for most), timed from spawn to the first byte on stdout or stderr.
// GANTRY_BENCH_BASELINE_CLI=<other checkout>/bin/gantry adds the same rows for another build
// (e.g. the commit before a start-up change), measured in the same rounds.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../src/local/tools';
import {
  benchDigest,
  log,
  median,
  ms,
  percentile,
  promotionOf,
  ratio,
  referenceRepo,
  spawnBenchWorker,
  startBenchServer,
  table,
  waitUntilAwaitingApproval,
  type BenchContext,
  type Section,
} from './benchKit';

const TASK_QUEUE = 'bench-cli-startup';
/** Start-up targets of issue 16, on this class of machine. */
const HELP_TARGET_MS = 250;
const STATUS_TARGET_MS = 400;

interface Timed {
  /** Spawn to the first byte on stdout or stderr. */
  firstOutputMs: number;
  /** Spawn to exit. */
  exitMs: number;
  code: number;
  output: string;
}

/** Runs `node <args>` and times its first output and its exit. */
function timeFirstOutput(args: string[], env: Record<string, string>): Promise<Timed> {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let firstOutputMs: number | undefined;
  let output = '';
  const onData = (chunk: Buffer) => {
    firstOutputMs ??= performance.now() - t0;
    output += chunk.toString();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      const exitMs = performance.now() - t0;
      // A command that prints nothing (node -e '') has its first "output" when it is done.
      resolve({ firstOutputMs: firstOutputMs ?? exitMs, exitMs, code: code ?? 1, output });
    });
  });
}

interface Probe {
  label: string;
  args: string[];
  env: Record<string, string>;
  firstOutput: number[];
  exit: number[];
}

export async function cliStartup(ctx: BenchContext): Promise<Section> {
  const rounds = ctx.quick ? 5 : 10;
  const srv = await startBenchServer(ctx, 'cli-startup', TASK_QUEUE);
  try {
    const worker = await spawnBenchWorker(ctx, srv.address, { gantryQueue: TASK_QUEUE, activities: 'instant' });
    const { yaml } = await referenceRepo(ctx, 'cli-startup', ['web']);
    const input = promotionOf(yaml, 'web', benchDigest());
    const { workflowId } = await srv.gantry.start(input);
    await waitUntilAwaitingApproval(srv.client, workflowId);

    const env = { TEMPORAL_ADDRESS: srv.address, GANTRY_TASK_QUEUE: TASK_QUEUE };
    const builds = [{ name: 'this build', gantry: join(PROJECT_ROOT, 'bin', 'gantry') }];
    const baseline = process.env.GANTRY_BENCH_BASELINE_CLI;
    if (baseline) builds.push({ name: `baseline ${baseline}`, gantry: baseline });
    const probes: Probe[] = [
      { label: "`node -e ''` (node alone)", args: ['-e', ''], env: {}, firstOutput: [], exit: [] },
    ];
    for (const b of builds) {
      probes.push({
        label: `\`gantry --help\` (${b.name})`,
        args: [b.gantry, '--help'],
        env: {},
        firstOutput: [],
        exit: [],
      });
      probes.push({
        label: `\`gantry status web <digest>\` (${b.name})`,
        args: [b.gantry, 'status', 'web', input.digest],
        env,
        firstOutput: [],
        exit: [],
      });
    }

    log(`cli-startup: ${rounds} rounds of ${probes.length} commands, after one warm-up round`);
    for (let round = 0; round <= rounds; round++) {
      for (const p of probes) {
        const r = await timeFirstOutput(p.args, p.env);
        if (r.code !== 0) throw new Error(`node ${p.args.join(' ')} exited ${r.code}: ${r.output.slice(0, 2000)}`);
        if (p.args.includes('status') && !r.output.startsWith(`web ${input.digest}\n`))
          throw new Error(`gantry status printed something other than the promotion:\n${r.output}`);
        // The first round fills the page cache and the server's caches; it is not counted.
        if (round === 0) continue;
        p.firstOutput.push(r.firstOutputMs);
        p.exit.push(r.exitMs);
      }
    }
    await worker.kill();

    const node = median(probes[0].firstOutput);
    const help = median(probes[1].firstOutput);
    const status = median(probes[2].firstOutput);
    const rows = probes.map((p) => [
      p.label,
      p.firstOutput.length,
      ms(median(p.firstOutput)),
      ms(percentile(p.firstOutput, 90)),
      ms(median(p.exit)),
      ratio(median(p.firstOutput), node),
    ]);
    return {
      title: '8. CLI start-up',
      caption:
        `Each command ${rounds} times (after one warm-up round), interleaved round by round. Time to first output is from spawning the process to the first byte on stdout or stderr; ` +
        `\`status\` asks a dev server on 127.0.0.1 about a promotion of the reference pipeline waiting for its production approval, with a bench worker answering the query.`,
      table: table(
        ['command', 'n', 'first output, median', 'first output, p90', 'exit, median', 'ratio to node alone'],
        rows,
      ),
      notes: [
        `Targets: \`gantry --help\` ≤ ${HELP_TARGET_MS} ms: ${ms(help)} — ${help <= HELP_TARGET_MS ? 'met' : 'not met'}; \`gantry status\` first output ≤ ${STATUS_TARGET_MS} ms: ${ms(status)} — ${status <= STATUS_TARGET_MS ? 'met' : 'not met'}.`,
        'Each command loads only the modules it needs (src/cli: the Temporal client, the config loader, the worker, the audit log and the codec server are imported inside the commands that use them); `--help` loads commander and the command definitions.',
        ...(baseline
          ? []
          : [
              'Set GANTRY_BENCH_BASELINE_CLI=<another checkout>/bin/gantry to measure another build in the same rounds.',
            ]),
      ],
      headline: [
        `CLI start-up: \`node -e ''\` ${ms(node)}, \`gantry --help\` ${ms(help)}, \`gantry status\` first output ${ms(status)} (medians).`,
      ],
    };
  } finally {
    await srv.stop();
  }
}
