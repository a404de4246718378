// Polls until a probe answers (a probe that throws has not answered yet), for state that another
// process reaches in its own time: a promotion waiting, visibility catching up.
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  detail?: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    // detail: what helps to see why it never came, such as the output of the process waited on.
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${detail ? `; ${detail()}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The same for a yes-or-no probe (a file exists, a process printed a line): waits until it says yes. */
export async function untilTrue(
  what: string,
  probe: () => boolean | Promise<boolean>,
  options: { timeoutMs?: number; detail?: () => string } = {},
): Promise<void> {
  await until(what, async () => ((await probe()) ? true : undefined), options.timeoutMs, options.detail);
}
