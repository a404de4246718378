// A bounded load loop through the router: a fixed request rate, at most `maxRequests` requests and
// `maxSeconds` seconds, then it stops by itself (or when stop() is called). Answers are counted by
// the track that served them (`x-track`) and by status.
import { Agent, request } from 'node:http';

export interface LoadOptions {
  url: string;
  ratePerSecond: number;
  maxRequests: number;
  maxSeconds: number;
  /** Requests in flight at most; beyond it a tick's requests are skipped (counted). */
  maxInFlight?: number;
}

export interface LoadStats {
  sent: number;
  answered: number;
  skipped: number;
  failed: number;
  byTrack: Record<string, { requests: number; errors: number }>;
  seconds: number;
}

export interface LoadLoop {
  stats(): LoadStats;
  stop(): Promise<LoadStats>;
  done: Promise<LoadStats>;
}

export function startLoad(options: LoadOptions): LoadLoop {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const maxInFlight = options.maxInFlight ?? 200;
  const started = Date.now();
  const stats: LoadStats = { sent: 0, answered: 0, skipped: 0, failed: 0, byTrack: {}, seconds: 0 };
  let inFlight = 0;
  let stopping = false;
  let finish!: () => void;
  const drained = new Promise<void>((resolve) => (finish = resolve));

  const one = () => {
    stats.sent++;
    inFlight++;
    const req = request(options.url, { agent, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => {
        const track = String(res.headers['x-track'] ?? 'none');
        const t = (stats.byTrack[track] ??= { requests: 0, errors: 0 });
        t.requests++;
        if ((res.statusCode ?? 0) >= 500) t.errors++;
        stats.answered++;
        settle();
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => {
      stats.failed++;
      settle();
    });
    req.end();
  };
  const settle = () => {
    inFlight--;
    if (stopping && inFlight === 0) finish();
  };

  const timer = setInterval(() => {
    const elapsed = (Date.now() - started) / 1000;
    if (stats.sent + stats.skipped >= options.maxRequests || elapsed >= options.maxSeconds) {
      end();
      return;
    }
    const due = Math.min(options.maxRequests, Math.floor(elapsed * options.ratePerSecond)) - stats.sent - stats.skipped;
    for (let i = 0; i < due; i++) {
      if (inFlight >= maxInFlight) stats.skipped++;
      else one();
    }
  }, 10);

  const end = () => {
    if (stopping) return;
    stopping = true;
    clearInterval(timer);
    stats.seconds = (Date.now() - started) / 1000;
    if (inFlight === 0) finish();
  };
  const done = drained.then(() => {
    agent.destroy();
    return { ...stats, byTrack: structuredClone(stats.byTrack) };
  });
  return {
    stats: () => ({
      ...stats,
      seconds: stats.seconds || (Date.now() - started) / 1000,
      byTrack: structuredClone(stats.byTrack),
    }),
    stop: () => (end(), done),
    done,
  };
}
