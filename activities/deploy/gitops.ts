// Deploy target `gitops`: pin the overlay's image to the digest in the config repo, commit, push.
// Looks before it writes: an overlay that already names the digest gets no second commit, so a
// retried or re-run deploy is harmless. A push rejected because someone else pushed first is
// fetched, re-applied and pushed again: many promotions can share one config repo.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SimpleGit } from 'simple-git';
import type { RunningDigest } from '../../src/drift/types';
import { overlayFile, withConfigRepoClone } from '../../src/gitops/configRepo';
import { readKustomizeDigest, setKustomizeImage } from '../../src/gitops/kustomizeImage';
import { shortDigest } from '../../src/pipeline/digest';
import type { GitOpsTarget } from '../../src/pipeline/types';
import type { DeployRequest, DeployResult } from '../types';
import type { DeployDriver } from './deployDriver';

const MAX_PUSH_ATTEMPTS = 30;

export const gitopsDriver: DeployDriver<GitOpsTarget> = { deploy: deployToGitOps, readRunning: readPinnedDigest };

async function deployToGitOps(request: DeployRequest & { target: GitOpsTarget }): Promise<DeployResult> {
  const { target } = request;
  return withConfigRepoClone(target, { tipOnly: false }, async (git, dir) => {
    const file = join(dir, overlayFile(target));
    for (let attempt = 1; attempt <= MAX_PUSH_ATTEMPTS; attempt++) {
      Context.current().heartbeat({ attempt });
      if (attempt > 1) {
        await git.fetch('origin', target.branch);
        await git.reset(['--hard', `origin/${target.branch}`]);
      }
      const before = await readOverlay(file, target);
      const edit = setKustomizeImage(before, {
        name: target.imageName,
        newName: target.newName,
        digest: request.digest,
      });
      if (!edit.changed) {
        const commit = await commitThatPinned(git, overlayFile(target), request.digest);
        return {
          changed: false,
          commit,
          previousDigest: edit.previousDigest,
          detail: `${target.path} already at ${shortDigest(request.digest)}`,
        };
      }
      await writeFile(file, edit.text);
      await git.add(file);
      await git.commit(commitMessage(request, edit.previousDigest));
      const commit = (await git.revparse(['HEAD'])).trim();
      try {
        await git.push('origin', target.branch);
        return {
          changed: true,
          commit,
          previousDigest: edit.previousDigest,
          detail: `pushed ${commit.slice(0, 12)} to ${target.branch}:${target.path}`,
        };
      } catch (err) {
        if (!isPushRace(err)) throw err;
        // Someone pushed first: back off a little (jittered, growing) and rebuild on top of theirs.
        await sleep(Math.min(2000, 50 * attempt) + Math.floor(Math.random() * 100 * attempt));
      }
    }
    throw new Error(
      `push to ${target.repoUrl} rejected ${MAX_PUSH_ATTEMPTS} times in a row (heavy contention); retrying`,
    );
  });
}

/** The digest the overlay pins for the image (a missing overlay pins none). */
async function readPinnedDigest(target: GitOpsTarget): Promise<RunningDigest> {
  return withConfigRepoClone(target, { tipOnly: true }, async (_git, dir) => {
    const file = overlayFile(target);
    const text = await readFile(join(dir, file), 'utf8').catch(() => undefined);
    if (text === undefined) return { detail: `${file} not found in ${target.repoUrl} (branch ${target.branch})` };
    const digest = readKustomizeDigest(text, target.imageName);
    return { digest, detail: `${file} pins ${digest ?? 'no digest'} for ${target.imageName}` };
  });
}

async function readOverlay(file: string, target: GitOpsTarget): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    throw ApplicationFailure.nonRetryable(
      `${target.path}/kustomization.yaml not found in ${target.repoUrl} (branch ${target.branch})`,
      'DeployConfigError',
    );
  }
}

function commitMessage(request: DeployRequest, previousDigest: string | undefined): string {
  const subject = request.rollback
    ? `roll back ${request.app} in ${request.environment} to ${shortDigest(request.digest)}`
    : `promote ${request.app} to ${request.environment}: ${shortDigest(request.digest)}`;
  return [
    subject,
    '',
    request.rollback
      ? `Takes out ${request.rollback.from}: ${request.rollback.reason}`
      : previousDigest
        ? `Replaces ${previousDigest}.`
        : `First digest pinned for ${request.app} in ${request.environment}.`,
    '',
    `Gantry-Workflow: ${request.workflowId}`,
    `Gantry-App: ${request.app}`,
    `Gantry-Environment: ${request.environment}`,
    `Gantry-Digest: ${request.digest}`,
    ...(request.rollback ? [`Gantry-Rollback-Of: ${request.rollback.from}`] : []),
  ].join('\n');
}

/** The commit that introduced the digest into the overlay (the one a previous attempt pushed). */
async function commitThatPinned(git: SimpleGit, path: string, digest: string): Promise<string | undefined> {
  const out = await git.raw(['log', '-1', '--format=%H', `-S${digest}`, '--', path]);
  return out.trim() || undefined;
}

function isPushRace(err: unknown): boolean {
  const text = String((err as Error)?.message ?? err);
  return /\[rejected\]|non-fast-forward|fetch first|failed to push some refs|cannot lock ref|incorrect old value/i.test(
    text,
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
