/**
 * A cross-process exclusive lock file, built from an atomic link(2): the lock file always holds
 * complete JSON { pid, host, token, time }. A lock is stale when its owner is a dead (or zombie)
 * process on this host, or when it is older than `staleMs` (owner on another host, PID reuse).
 * Breaking a stale lock renames it aside first and checks it was the lock judged stale, so two
 * waiters breaking the same stale lock cannot both end up holding a lock.
 */
import { randomUUID } from 'node:crypto';
import { promises as fsp, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface FileLockOptions {
  timeoutMs: number;
  staleMs: number;
}

interface LockInfo {
  pid: number;
  host: string;
  token: string;
  time: string;
}

export type ReleaseLock = () => Promise<void>;

export async function acquireFileLock(lockPath: string, options: FileLockOptions): Promise<ReleaseLock> {
  const info: LockInfo = { pid: process.pid, host: hostname(), token: randomUUID(), time: new Date().toISOString() };
  const tmp = `${lockPath}.${process.pid}.${info.token}.tmp`;
  await fsp.writeFile(tmp, JSON.stringify(info), { flag: 'wx', mode: 0o644 });
  try {
    const deadline = Date.now() + options.timeoutMs;
    let delay = 2;
    for (;;) {
      try {
        await fsp.link(tmp, lockPath);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      if (await breakStaleLock(lockPath, options.staleMs)) continue;
      if (Date.now() > deadline) {
        throw new Error(
          `timed out after ${options.timeoutMs} ms waiting for lock ${lockPath} (held by ${await describeLock(lockPath)})`,
        );
      }
      await sleep(delay + Math.random() * delay);
      delay = Math.min(delay * 2, 20);
    }
  } finally {
    await fsp.unlink(tmp).catch(() => undefined);
  }
  return async () => {
    const current = parseLockInfo(await fsp.readFile(lockPath, 'utf8').catch(() => ''));
    if (current?.token === info.token) await fsp.unlink(lockPath).catch(() => undefined);
  };
}

/** Removes temp files left by processes killed between writing and linking their lock. */
export async function sweepLockLeftovers(lockPath: string): Promise<void> {
  const prefix = `${basename(lockPath)}.`;
  const names = await fsp.readdir(dirname(lockPath)).catch(() => [] as string[]);
  for (const name of names) {
    const m = name.startsWith(prefix) ? /^(\d+)\.[0-9a-f-]{36}\.tmp$/.exec(name.slice(prefix.length)) : null;
    if (m && !pidAlive(Number(m[1]))) await fsp.unlink(join(dirname(lockPath), name)).catch(() => undefined);
  }
}

async function breakStaleLock(lockPath: string, staleMs: number): Promise<boolean> {
  let content: string;
  let mtimeMs: number;
  try {
    content = await fsp.readFile(lockPath, 'utf8');
    mtimeMs = (await fsp.stat(lockPath)).mtimeMs;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true; // released meanwhile: retry now
    throw err;
  }
  const info = parseLockInfo(content);
  const age = Date.now() - mtimeMs;
  const stale = info ? (info.host === hostname() && !pidAlive(info.pid)) || age > staleMs : age > staleMs;
  if (!stale) return false;
  const aside = `${lockPath}.stale-${process.pid}-${randomUUID()}`;
  try {
    await fsp.rename(lockPath, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
  const moved = await fsp.readFile(aside, 'utf8').catch(() => '');
  if (moved !== content) {
    // Between our check and the rename someone else broke the stale lock and took a fresh one: put it back.
    await fsp.link(aside, lockPath).catch(() => undefined);
  }
  await fsp.unlink(aside).catch(() => undefined);
  return true;
}

function parseLockInfo(content: string): LockInfo | null {
  try {
    const v = JSON.parse(content) as Partial<LockInfo>;
    if (typeof v.pid === 'number' && typeof v.host === 'string' && typeof v.token === 'string') return v as LockInfo;
  } catch {
    // empty or partial
  }
  return null;
}

async function describeLock(lockPath: string): Promise<string> {
  const info = parseLockInfo(await fsp.readFile(lockPath, 'utf8').catch(() => ''));
  return info ? `pid ${info.pid} on ${info.host} since ${info.time}` : 'unknown owner';
}

/** Whether a process with this pid exists on this host and is not a zombie. */
export function pidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // "pid (comm) S ..." — a zombie has exited and only waits to be reaped.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no procfs: trust kill(0)
  }
}
