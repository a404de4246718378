// A real loopback Kubernetes control plane (scripts/k8s/cluster.sh: etcd, kube-apiserver,
// controller-manager, scheduler and KWOK) in a temp folder, for the tests of Gantry's Kubernetes
// code. A missing binary is a failure, never a skip: `npm test` builds them (setup.sh --with-kubernetes).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/local/tools';

const SCRIPT = join(PROJECT_ROOT, 'scripts', 'k8s', 'cluster.sh');
export const KUBECTL = join(PROJECT_ROOT, '.tools', 'k8s', 'bin', 'kubectl');

export interface KubernetesCluster {
  dir: string;
  kubeconfig: string;
  /** Runs kubectl against the cluster; stdin is written to it when given. Rejects on a non-zero exit. */
  kubectl(args: string[], stdin?: string): Promise<string>;
  stop(): Promise<void>;
}

function run(
  file: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; stdin?: string; timeoutMs: number },
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { env: options.env ?? process.env, timeout: options.timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${file} ${args.join(' ')} failed: ${err.message}\n${stderr.slice(-4000)}`));
        else resolve({ stdout, stderr });
      },
    );
    if (options.stdin !== undefined) child.stdin?.end(options.stdin);
  });
}

/** Starts a cluster of its own in a fresh temp folder; call stop() in afterAll. */
export async function startKubernetesCluster(): Promise<KubernetesCluster> {
  if (!existsSync(join(PROJECT_ROOT, '.tools', 'k8s', 'bin', 'kube-apiserver'))) {
    throw new Error(
      'the Kubernetes binaries are missing in .tools/k8s/bin: run `bash scripts/setup.sh --with-kubernetes` (npm test does)',
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'gantry-k8s-'));
  let stdout: string;
  try {
    ({ stdout } = await run('bash', [SCRIPT, 'start', '--dir', dir], { timeoutMs: 180_000 }));
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const line = stdout.trim().split('\n').pop() ?? '';
  if (!line.startsWith('KUBECONFIG=')) throw new Error(`cluster.sh start printed no KUBECONFIG line: ${stdout}`);
  const kubeconfig = line.slice('KUBECONFIG='.length);
  return {
    dir,
    kubeconfig,
    async kubectl(args, stdin) {
      const { stdout: out } = await run(KUBECTL, args, {
        env: { ...process.env, KUBECONFIG: kubeconfig },
        stdin,
        timeoutMs: 60_000,
      });
      return out;
    },
    async stop() {
      await run('bash', [SCRIPT, 'stop', '--dir', dir], { timeoutMs: 60_000 });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts a cluster in beforeAll and stops it in afterAll; the returned getter is valid inside tests.
 * Call at the top level of a test file.
 */
export function useKubernetesCluster(): () => KubernetesCluster {
  let cluster: KubernetesCluster | undefined;
  beforeAll(async () => {
    cluster = await startKubernetesCluster();
  }, 240_000);
  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);
  return () => {
    if (!cluster) throw new Error('the Kubernetes cluster did not start (see beforeAll)');
    return cluster;
  };
}
