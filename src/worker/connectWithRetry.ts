// A worker started before Temporal is reachable (server restarting, network not up yet) waits for
// it with capped exponential backoff and says so, instead of exiting; SIGTERM/SIGINT end the wait.

export interface ConnectRetryOptions {
  /** For messages. */
  address: string;
  initialDelayMs?: number;
  maxDelayMs?: number;
  log?: (message: string) => void;
  /** Signals that stop the waiting (default SIGTERM, SIGINT). */
  signals?: NodeJS.Signals[];
}

/** The connection, or undefined when a signal asked the process to stop before one was made. */
export async function connectWithRetry<T>(
  connect: () => Promise<T>,
  options: ConnectRetryOptions,
): Promise<T | undefined> {
  const log = options.log ?? ((m: string) => console.error(m));
  const maxDelay = options.maxDelayMs ?? 30_000;
  let delay = options.initialDelayMs ?? 1_000;
  let stopped = false;
  let wake: () => void = () => undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    stopped = true;
    log(`${signal}: stopped waiting for Temporal at ${options.address}`);
    wake();
  };
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  for (const s of signals) process.on(s, onSignal);
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        const connection = await connect();
        if (attempt > 1) log(`connected to Temporal at ${options.address} after ${attempt} attempts`);
        return connection;
      } catch (err) {
        if (stopped) return undefined;
        log(
          `cannot reach Temporal at ${options.address} (${firstLine(err)}); retrying in ${Math.round(delay / 1000)}s (attempt ${attempt})`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (stopped) return undefined;
      delay = Math.min(maxDelay, delay * 2);
    }
  } finally {
    for (const s of signals) process.off(s, onSignal);
  }
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0];
}
