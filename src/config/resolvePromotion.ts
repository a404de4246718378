// Turns gantry.yaml plus a start request into the exact pipeline one promotion runs with:
// defaults filled in, durations in milliseconds, relative repo paths made absolute. A gate's cwd
// and kubeconfigs stay as written: the worker resolves them where the activity runs.
import { isAbsolute, resolve } from 'node:path';
import { resolveCanary } from './resolveCanary';
import { digestError } from '../pipeline/digest';
import { parseDuration } from '../pipeline/duration';
import type {
  DeployTarget,
  EnvironmentPlan,
  FreezeWindow,
  GateSpec,
  HealthCheck,
  PromotionInput,
  RegistryRef,
  RolloutPlan,
} from '../pipeline/types';
import { resolveApproval } from './resolveApproval';
import { resolveMigrations } from './resolveMigrations';
import { resolveMaxFailures, resolveWaves, targetName } from './resolveWaves';
import { resolveVerifyPolicy } from './verifyPolicy';
import type { EnvironmentConfig, FreezeWindowConfig, GantryConfig, RegistryConfig, RepoConfig } from './configTypes';

export interface StartRequest {
  app: string;
  digest: string;
  commit?: string;
  requestedBy: string;
}

const DEFAULT_AUTHOR = { name: 'Gantry', email: 'gantry@localhost' };

/** A start request that cannot become a promotion; says which part of it is wrong. */
export class StartRequestError extends Error {
  name = 'StartRequestError';
}

export function resolvePromotion(config: GantryConfig, request: StartRequest): PromotionInput {
  const app = config.apps[request.app];
  if (!app) {
    throw new StartRequestError(
      `unknown app "${request.app}" (gantry.yaml defines: ${Object.keys(config.apps).join(', ')})`,
    );
  }
  const invalid = digestError(request.digest);
  if (invalid) throw new StartRequestError(invalid);
  if (request.commit !== undefined && !/^[0-9a-f]{7,64}$/.test(request.commit)) {
    throw new StartRequestError('commit must be a git commit sha (7 to 64 hex characters)');
  }
  const needsCommit = (app.environments ?? config.environments ?? []).find((e) => e.migrations);
  if (needsCommit && request.commit === undefined) {
    throw new StartRequestError(
      `${needsCommit.name} has a migrations gate: start with --commit <the source commit the image was built from>, where its migrations are read`,
    );
  }
  const environments = (app.environments ?? config.environments ?? []).map((env) =>
    resolveEnvironment(env, {
      app: request.app,
      image: app.image,
      repo: env.deploy.gitops?.repo ?? app.configRepo ?? config.configRepo,
      baseDir: config.baseDir,
      config,
    }),
  );
  const registryConfig = app.registry ?? config.registry;
  return {
    app: request.app,
    digest: request.digest,
    image: app.image,
    commit: request.commit,
    requestedBy: request.requestedBy,
    registry: registryConfig ? resolveRegistry(registryConfig, app.image) : undefined,
    ordering: app.ordering ?? config.ordering ?? 'supersede',
    verify: resolveVerifyPolicy(app, config.baseDir),
    environments,
  };
}

interface EnvContext {
  config: GantryConfig;
  app: string;
  image: string;
  repo?: RepoConfig;
  baseDir: string;
}

function resolveEnvironment(raw: EnvironmentConfig, ctx: EnvContext): EnvironmentPlan {
  // One environment list serves many apps: {app} in any text field names the app being promoted.
  const env = JSON.parse(JSON.stringify(raw).replaceAll('{app}', ctx.app)) as EnvironmentConfig;
  const health = resolveHealth(env);
  return {
    name: env.name,
    ...(env.taskQueue ? { taskQueue: env.taskQueue } : {}),
    deploy: resolveDeploy(env.deploy, ctx),
    health,
    gates: (env.gates ?? []).map((g, i) => resolveGate(g, i, health?.kind === 'http' ? health.url : undefined)),
    soakMs: env.soak ? parseDuration(env.soak) : 0,
    onFailure: env.onFailure ?? 'hold',
    approval: env.approval ? resolveApproval(env.approval === true ? {} : env.approval, ctx.config) : undefined,
    freezeWindows: [...(ctx.config.freeze ?? []), ...(env.freeze ?? [])].map(resolveFreezeWindow),
    webhookUrl: env.notifications?.webhook?.url ?? ctx.config.notifications?.webhook?.url,
    canary: resolveCanary(withoutStableSide(env.canary), { app: ctx.app, environment: env.name, baseDir: ctx.baseDir }),
    ...(canaryStableSide(env.canary) ? { canaryStable: resolveDeploy(canaryStableSide(env.canary)!, ctx) } : {}),
    migrations: resolveMigrations(env, ctx.config),
    ...(env.targets ? { rollout: resolveRollout(env, ctx) } : {}),
  };
}

/** Each target as the environment's settings with its own over them, `{target}` replaced by its name. */
function resolveRollout(env: EnvironmentConfig, ctx: EnvContext): RolloutPlan {
  const shared = {
    taskQueue: env.taskQueue,
    deploy: env.deploy,
    health: env.health,
    gates: env.gates,
    // With its stable side: the environment's canary is every target's default, `{target}` filled in.
    canary: env.canary,
  };
  const targets = (env.targets ?? []).map((raw) => {
    const name = targetName(raw);
    const own = typeof raw === 'string' ? {} : raw;
    const t = JSON.parse(JSON.stringify({ ...shared, ...own, name }).replaceAll('{target}', name)) as typeof shared & {
      name: string;
      freeze?: FreezeWindowConfig[];
    };
    const health = resolveHealth({ name: env.name, deploy: t.deploy, health: t.health });
    const targetCtx = { ...ctx, repo: t.deploy.gitops?.repo ?? ctx.repo };
    const stable = canaryStableSide(t.canary);
    return {
      name,
      ...(t.taskQueue ? { taskQueue: t.taskQueue } : {}),
      deploy: resolveDeploy(t.deploy, targetCtx),
      health,
      gates: (t.gates ?? []).map((g, i) => resolveGate(g, i, health?.kind === 'http' ? health.url : undefined)),
      canary: resolveCanary(withoutStableSide(t.canary), {
        app: ctx.app,
        environment: `${env.name}/${name}`,
        baseDir: ctx.baseDir,
      }),
      ...(stable ? { canaryStable: resolveDeploy(stable, targetCtx) } : {}),
      ...(t.freeze ? { freezeWindows: t.freeze.map(resolveFreezeWindow) } : {}),
    };
  });
  return {
    targets,
    waves: resolveWaves(env),
    bakeMs: env.bakeTime ? parseDuration(env.bakeTime) : 0,
    maxFailures: resolveMaxFailures(env),
    ...(env.concurrency ? { concurrency: env.concurrency } : {}),
  };
}

/** `canary.stable`: the stable side's deploy target (a deploy target like `deploy:`, so resolved here). */
export function canaryStableSide(canary: unknown): EnvironmentConfig['deploy'] | undefined {
  return typeof canary === 'object' && canary !== null
    ? ((canary as { stable?: EnvironmentConfig['deploy'] }).stable ?? undefined)
    : undefined;
}

/** The canary block without `stable:`, for the canary resolver (it knows routers, metrics and steps). */
export function withoutStableSide(canary: unknown): unknown {
  if (typeof canary !== 'object' || canary === null || !('stable' in canary)) return canary;
  return Object.fromEntries(Object.entries(canary).filter(([key]) => key !== 'stable'));
}

function resolveDeploy(deploy: EnvironmentConfig['deploy'], ctx: EnvContext): DeployTarget {
  // A stable side may name its own repo; otherwise the environment's.
  const repo = deploy.gitops?.repo ?? ctx.repo;
  const { gitops, kubernetes } = deploy;
  if (kubernetes) {
    return {
      kind: 'kubernetes',
      namespace: kubernetes.namespace,
      deployment: kubernetes.deployment,
      container: kubernetes.container,
      image: ctx.image,
      kubeconfig: kubernetes.kubeconfig,
      context: kubernetes.context,
    };
  }
  // The loader guarantees a repo for every gitops target.
  return {
    kind: 'gitops',
    repoUrl: resolveRepoUrl(repo!.url, ctx.baseDir),
    branch: repo!.branch ?? 'main',
    path: gitops!.path,
    imageName: gitops!.imageName ?? ctx.image,
    newName: ctx.image,
    author: repo!.author ?? DEFAULT_AUTHOR,
  };
}

const DAYS = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 } as const;

function resolveFreezeWindow(w: FreezeWindowConfig, index: number): FreezeWindow {
  const name = w.name ?? `freeze-${index + 1}`;
  if (w.weekly) {
    const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));
    return {
      kind: 'weekly',
      name,
      days: w.weekly.days.map((d) => DAYS[d]),
      fromMinute: minutes(w.weekly.from),
      toMinute: minutes(w.weekly.to),
      timeZone: w.timeZone,
    };
  }
  return { kind: 'once', name, from: w.from!, to: w.to!, timeZone: w.timeZone };
}

function resolveHealth(env: EnvironmentConfig): HealthCheck | undefined {
  const { http, kubernetesRollout: k8s, argocd } = env.health ?? {};
  if (http) {
    return {
      kind: 'http',
      url: http.url,
      versionPath: http.versionPath ?? '/version',
      healthPath: http.healthPath ?? '/health',
      timeoutMs: parseDuration(http.timeout ?? '5m'),
      intervalMs: parseDuration(http.interval ?? '2s'),
    };
  }
  if (k8s) {
    return {
      kind: 'kubernetesRollout',
      namespace: k8s.namespace,
      deployment: k8s.deployment,
      kubeconfig: k8s.kubeconfig,
      context: k8s.context,
      timeoutMs: parseDuration(k8s.timeout ?? '10m'),
      intervalMs: parseDuration(k8s.interval ?? '2s'),
    };
  }
  if (argocd) {
    return {
      kind: 'argocd',
      namespace: argocd.namespace ?? 'argocd',
      application: argocd.application,
      kubeconfig: argocd.kubeconfig,
      context: argocd.context,
      timeoutMs: parseDuration(argocd.timeout ?? '10m'),
      intervalMs: parseDuration(argocd.interval ?? '5s'),
    };
  }
  return undefined;
}

function resolveGate(
  gate: NonNullable<EnvironmentConfig['gates']>[number],
  index: number,
  environmentUrl: string | undefined,
): GateSpec {
  if (gate.http) {
    const g = gate.http;
    return {
      kind: 'http',
      name: g.name ?? `http-${index + 1}`,
      url: g.url,
      expectStatus: g.expectStatus ?? 200,
      contains: g.contains,
      timeoutMs: parseDuration(g.timeout ?? '30s'),
    };
  }
  if (gate.parity) {
    const g = gate.parity;
    // Each side may name its own cluster; the gate's kubeconfig and context are the default for both.
    const side = (d: typeof g.reference) => {
      const kubeconfig = d.kubeconfig ?? g.kubeconfig;
      const context = d.context ?? g.context;
      return {
        namespace: d.namespace,
        deployment: d.deployment,
        ...(kubeconfig ? { kubeconfig } : {}),
        ...(context ? { context } : {}),
      };
    };
    return {
      kind: 'parity',
      name: g.name ?? 'parity',
      reference: side(g.reference),
      target: side(g.target),
      container: g.container,
      minRatio: g.resourceRatio?.min ?? 0.5,
      maxRatio: g.resourceRatio?.max ?? 4,
      timeoutMs: parseDuration(g.timeout ?? '30s'),
    };
  }
  const g = gate.command!;
  return {
    kind: 'command',
    name: g.name ?? `command-${index + 1}`,
    run: g.run,
    // Relative paths stay relative: the worker resolves them where the gate runs (workerPaths.ts).
    cwd: g.cwd,
    env: g.env ?? {},
    timeoutMs: parseDuration(g.timeout ?? '10m'),
    environmentUrl,
  };
}

function resolveRegistry(registry: RegistryConfig, image: string): RegistryRef {
  // ghcr.io/acme/web -> acme/web; a host is the first segment when it has a dot, a colon or is localhost.
  const [first, ...rest] = image.split('/');
  const hasHost = rest.length > 0 && (/[.:]/.test(first) || first === 'localhost');
  return { url: registry.url, repository: registry.repository ?? (hasHost ? rest.join('/') : image) };
}

function resolveRepoUrl(url: string, baseDir: string): string {
  // Relative paths in gantry.yaml are relative to the file, not to wherever the worker runs.
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) || /^[^/]+@[^:]+:/.test(url) || isAbsolute(url)) return url;
  return resolve(baseDir, url);
}
