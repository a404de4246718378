// A stand-in for one environment's running app in the demo: like Argo CD, it syncs from the
// config repo (every half second) and serves /version with the digest its overlay names and
// /health. It lets the demo run the real HTTP health check on a machine without Kubernetes.
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { promisify } from 'node:util';
import { readKustomizeDigest } from '../gitops/kustomizeImage';

const run = promisify(execFile);

export interface DemoApp {
  url: string;
  stop(): Promise<void>;
}

export async function startDemoApp(options: {
  bareRepo: string;
  overlayPath: string;
  imageName: string;
  port: number;
}): Promise<DemoApp> {
  let digest: string | undefined;
  const sync = async () => {
    try {
      const { stdout } = await run('git', [
        '--git-dir',
        options.bareRepo,
        'show',
        `main:${options.overlayPath}/kustomization.yaml`,
      ]);
      digest = readKustomizeDigest(stdout, options.imageName);
    } catch {
      digest = undefined;
    }
  };
  await sync();
  const timer = setInterval(() => void sync(), 500);
  const server: Server = createServer((req, res) => {
    if (req.url === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    } else if (req.url === '/version') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ digest: digest ?? null }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(options.port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${options.port}`,
    async stop() {
      clearInterval(timer);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
