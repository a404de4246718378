/**
 * Gantry's benchmarks: orchestration overhead, reaction time, scale, history size, config repo
 * contention, recovery, the canary analysis scenario suite, and CLI start-up. Each Temporal benchmark runs
 * against its own dev server on 127.0.0.1 and its own worker processes; each prints one markdown
 * table, and the whole run is written to bench/RESULTS.md with the machine it ran on.
 *
 *   npm run bench                                   # everything, scale at 1,000
 *   node dist/bench/runBenchmarks.js --only canary  # the canary statistics alone (no server; a few
 *                                                   # minutes), its section replaced in RESULTS.md
 *   node dist/bench/runBenchmarks.js --only overhead,reaction --quick
 *   node dist/bench/runBenchmarks.js --only scale --scale 1000,10000
 *   node dist/bench/runBenchmarks.js --only cli-startup --out /tmp/cli.md  # node, --help, status
 *   GANTRY_BENCH_SCALE=1000,10000 npm run bench     # same, for CI matrices
 *
 * --out FILE writes elsewhere than bench/RESULTS.md (a partial run should not overwrite it).
 */
import { DefaultLogger, Runtime, bundleWorkflowCode } from '@temporalio/worker';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { toolPath, PROJECT_ROOT } from '../src/local/tools';
import { bundleGantryWorkflows } from '../src/worker/workflowBundle';
import {
  log,
  removeDir,
  renderSection,
  scratchDir,
  stopAllChildren,
  type BenchContext,
  type Section,
} from './benchKit';
import { canaryScenarios } from './canaryScenarios';
import { cliStartup } from './cliStartup';
import { configRepoContention } from './configRepoContention';
import { historySize } from './historySize';
import { orchestrationOverhead } from './orchestrationOverhead';
import { reactionTime } from './reactionTime';
import { recovery } from './recovery';
import { scale } from './scale';
import { scalePostgres } from './scalePostgres';
import { waves } from './waves';

// Run order: the long scale benchmark last, so the others are written even if it runs out of time.
const BENCHMARKS: Record<string, (ctx: BenchContext) => Promise<Section>> = {
  overhead: orchestrationOverhead,
  reaction: reactionTime,
  history: historySize,
  contention: configRepoContention,
  recovery,
  'cli-startup': cliStartup,
  waves,
  // Pure simulation (no server); before scale so a run cut short still has it.
  canary: async (ctx) => (await canaryScenarios({ quick: ctx.quick })).section,
  scale,
  'scale-postgres': scalePostgres,
};

function machine(): string[] {
  const temporalVersion = execFileSync(toolPath('temporal'), ['--version'], { encoding: 'utf8' }).trim();
  const nproc = execFileSync('nproc', { encoding: 'utf8' }).trim();
  return [
    `- CPU: ${nproc} cores (nproc), ${cpus()[0]?.model.trim() ?? 'unknown model'}`,
    `- Memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- Node ${process.version}; ${temporalVersion}; Temporal TypeScript SDK ${sdkVersion()}`,
  ];
}

function sdkVersion(): string {
  const pkg = JSON.parse(
    readFileSync(join(PROJECT_ROOT, 'node_modules', '@temporalio', 'worker', 'package.json'), 'utf8'),
  ) as { version: string };
  return pkg.version;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      quick: { type: 'boolean', default: false },
      scale: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const names = values.only ? values.only.split(',').map((s) => s.trim()) : Object.keys(BENCHMARKS);
  const unknown = names.filter((n) => !BENCHMARKS[n]);
  if (unknown.length)
    throw new Error(`unknown benchmark(s): ${unknown.join(', ')} (known: ${Object.keys(BENCHMARKS).join(', ')})`);
  const scaleCounts = (values.scale ?? process.env.GANTRY_BENCH_SCALE ?? '1000')
    .split(',')
    .map((s) => Number(s.trim()));
  if (scaleCounts.some((n) => !Number.isInteger(n) || n < 1 || n > 50_000))
    throw new Error('--scale takes counts between 1 and 50000, e.g. 1000,10000');
  const out = values.out ?? join(PROJECT_ROOT, 'bench', 'RESULTS.md');
  if (names.length === 1 && names[0] === 'canary') {
    // Needs no server or bundle: measured alone, its section replaces the old one, the rest stays.
    log('canary: starting');
    const t0 = performance.now();
    const { section } = await canaryScenarios({ quick: values.quick });
    section.notes.push(
      `Took ${((performance.now() - t0) / 1000).toFixed(0)} s; run with \`node dist/bench/runBenchmarks.js --only canary\` at commit ${commit()}, load average (1 min) at the end ${loadavg()[0].toFixed(2)}.`,
    );
    console.log(`\n${renderSection(section)}\n`);
    writeFileSync(
      out,
      spliceSection(existsSync(out) ? readFileSync(out, 'utf8') : '# Gantry benchmarks\n\n## Summary\n\n', section),
    );
    log(`wrote ${out}`);
    return;
  }

  Runtime.install({ logger: new DefaultLogger('WARN') });
  const dir = scratchDir();
  const stop = () => {
    stopAllChildren();
    removeDir(dir);
  };
  process.once('SIGINT', () => {
    stop();
    process.exit(130);
  });
  try {
    // Bundled once here; every worker process loads the code instead of bundling it again.
    log('bundling workflow code');
    const [gantry, bare] = await Promise.all([
      bundleGantryWorkflows(),
      bundleWorkflowCode({ workflowsPath: require.resolve('./bareWorkflow'), logger: new DefaultLogger('WARN') }),
    ]);
    const bundles = { gantry: join(dir, 'gantry-workflows.js'), bare: join(dir, 'bare-workflows.js') };
    writeFileSync(bundles.gantry, gantry.code);
    writeFileSync(bundles.bare, bare.code);
    const ctx: BenchContext = { dir, bundles, quick: values.quick, scaleCounts };

    const started = new Date();
    const loadBefore = loadavg();
    const sections: Section[] = [];
    const write = (done: boolean) => {
      // Sections in the order (their titles are numbered), whatever order they ran in.
      const ordered = [...sections].sort((a, b) => a.title.localeCompare(b.title, 'en', { numeric: true }));
      writeFileSync(out, renderDoc(ordered, started, loadBefore, loadavg(), done));
    };
    for (const name of names) {
      log(`${name}: starting (load average ${loadavg()[0].toFixed(2)})`);
      const t0 = performance.now();
      const section = await BENCHMARKS[name](ctx);
      section.notes.push(
        `Took ${((performance.now() - t0) / 1000).toFixed(0)} s; load average (1 min) at the end ${loadavg()[0].toFixed(2)}.`,
      );
      sections.push(section);
      console.log(`\n${renderSection(section)}\n`);
      write(false); // a run cut short still leaves what it measured
    }
    write(true);
    log(`wrote ${out}`);
  } finally {
    stop();
  }
}

/**
 * RESULTS.md with one section replaced (or added in title order) and its headline lines in the
 * summary replaced, everything else as it was.
 */
function spliceSection(doc: string, section: Section): string {
  const lines = doc.split('\n');
  const number = section.title.split('.')[0];
  const headlinePrefix = section.headline.map((h) => h.split(' ')[0]);
  // Summary: drop this section's old headline lines, add the new ones at the end of the list.
  const summaryAt = lines.indexOf('## Summary');
  let body = lines;
  if (summaryAt >= 0) {
    let end = summaryAt + 1;
    while (end < lines.length && !lines[end].startsWith('## ')) end++;
    const kept = lines
      .slice(summaryAt + 1, end)
      .filter((l) => !headlinePrefix.some((p) => l.startsWith(`- ${p}`)) && l.trim() !== '');
    body = [
      ...lines.slice(0, summaryAt + 1),
      '',
      ...kept,
      ...section.headline.map((h) => `- ${h}`),
      '',
      ...lines.slice(end),
    ];
  }
  const start = body.findIndex((l) => l.startsWith(`## ${number}. `));
  const rendered = renderSection(section).split('\n');
  if (start >= 0) {
    let end = start + 1;
    while (end < body.length && !body[end].startsWith('## ')) end++;
    return [...body.slice(0, start), ...rendered, '', ...body.slice(end)].join('\n');
  }
  // Before the first numbered section with a higher number, else at the end.
  const after = body.findIndex((l) => /^## \d+\. /.test(l) && Number(l.slice(3).split('.')[0]) > Number(number));
  if (after >= 0) return [...body.slice(0, after), ...rendered, '', ...body.slice(after)].join('\n');
  return [...body, '', ...rendered, ''].join('\n');
}

/** The commit measured: git's HEAD, or GANTRY_BENCH_COMMIT when run from an exported tree. */
function commit(): string {
  try {
    return execFileSync('git', ['-C', PROJECT_ROOT, 'rev-parse', '--short=12', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return process.env.GANTRY_BENCH_COMMIT ?? 'unknown';
  }
}

function renderDoc(
  sections: Section[],
  started: Date,
  loadBefore: number[],
  loadAfter: number[],
  done: boolean,
): string {
  return [
    '# Gantry benchmarks',
    '',
    `Run on ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC with \`${['node dist/bench/runBenchmarks.js', ...process.argv.slice(2)].join(' ')}\`` +
      ` at commit ${commit()}. Every server is a Temporal dev server (SQLite file) on 127.0.0.1; every figure is compared with a baseline measured in the same run.`,
    '',
    `Run: \`npm run bench\` (all ${Object.keys(BENCHMARKS).length}; scale at 1,000), or \`node dist/bench/runBenchmarks.js --only ${Object.keys(BENCHMARKS).join(',')} [--quick] [--scale 1000,10000] [--out FILE]\`; ` +
      '`GANTRY_BENCH_SCALE=1000,10000` sets the scale counts for CI. Worker processes are `node dist/bench/benchWorker.js` (the real workflow bundle, bench activity overrides, the product createWorker).',
    '',
    ...machine(),
    `- Load average (1/5/15 min) at the start ${loadBefore.map((l) => l.toFixed(2)).join(' / ')}, at the end ${loadAfter.map((l) => l.toFixed(2)).join(' / ')} (the machine is shared).`,
    '',
    '## Summary',
    '',
    ...sections.flatMap((s) => s.headline.map((h) => `- ${h}`)),
    '',
    ...sections.map((s) => `${renderSection(s)}\n`),
    ...(done ? [] : ['_Run in progress or cut short: the sections above are complete, the others are missing._', '']),
  ].join('\n');
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    stopAllChildren();
    process.exit(1);
  },
);
