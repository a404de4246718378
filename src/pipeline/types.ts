// The resolved pipeline a promotion runs with. It is computed once from gantry.yaml when the
// promotion starts and passed into the workflow, so a run never changes its pipeline mid-flight.

import type { ArtifactTrustPolicy } from '../artifactTrust/types';
import type { CanaryPlan } from '../canary/types';
import type { OrderingPolicy } from './promotionLane';
import type { MigrationsPlan } from '../migrations/types';

export interface PromotionInput {
  app: string;
  /** sha256:<64 hex>: the immutable artifact being promoted. */
  digest: string;
  /** Image repository without tag or digest, e.g. registry.example.com/team/app. */
  image: string;
  /** Source commit the image was built from, when CI knows it. */
  commit?: string;
  /** Who started the promotion (CI identity or a person). */
  requestedBy: string;
  registry?: RegistryRef;
  /** How this promotion shares environments with the app's other promotions; absent in promotions started before lanes (supersede). */
  ordering?: OrderingPolicy;
  /** Signatures and provenance the image must carry before it goes anywhere (the app's verify:). */
  verify?: ArtifactTrustPolicy;
  environments: EnvironmentPlan[];
  /** Set when this run puts an environment back on an earlier digest (gantry rollback). */
  rollback?: RollbackPlan;
}

export interface RollbackPlan {
  /** The digest being taken out of the environment. */
  from: string;
  by: string;
  reason?: string;
  /** Skip gates and soak: get back to the known-good digest as fast as health allows. */
  fastTrack: boolean;
}

export interface RegistryRef {
  /** Base URL of an OCI distribution registry, e.g. http://127.0.0.1:5000. */
  url: string;
  /** Repository name inside the registry; defaults to the image path after the host. */
  repository: string;
}

export interface EnvironmentPlan {
  name: string;
  /** Where activities touching this environment run (workers inside it); absent: the workflow's own queue. */
  taskQueue?: string;
  deploy: DeployTarget;
  health?: HealthCheck;
  gates: GateSpec[];
  soakMs: number;
  /** After a failed health check, gate or canary: put the environment back (rollback) or leave it (hold, the default). */
  onFailure?: 'hold' | 'rollback';
  approval?: ApprovalSpec;
  /** Deny windows (global and this environment's): the promotion waits while one is open. */
  freezeWindows: FreezeWindow[];
  /** Slack-compatible webhook for this environment's events. */
  webhookUrl?: string;
  /** Canary steps run after the deploy is healthy, before the gates. */
  canary?: CanaryPlan;
  /** The canary's stable side (`canary.stable`): gets the digest once the last step passed, then all traffic. */
  canaryStable?: DeployTarget;
  /** Database migrations gate before the deploy (destructive statements need approval). */
  migrations?: MigrationsPlan;
  /** Targets deployed in waves (`targets:`); absent: the environment is the one place `deploy` names. */
  rollout?: RolloutPlan;
}

/** How an environment made of several targets gets the digest: wave by wave, within a failure budget. */
export interface RolloutPlan {
  targets: TargetPlan[];
  /** Target names per wave, in order; every target is in exactly one wave. */
  waves: string[][];
  /** Wait after each wave but the last, before the next starts. */
  bakeMs: number;
  /** Failed targets the rollout tolerates; one more stops it and rolls back every changed target. */
  maxFailures: number;
  /** Targets of one wave deployed at once; absent: the whole wave. */
  concurrency?: number;
}

/** One target of an environment, with `{target}` already replaced by its name. */
export interface TargetPlan {
  name: string;
  /** Where this target's activities run; absent: the workflow's own queue. */
  taskQueue?: string;
  deploy: DeployTarget;
  health?: HealthCheck;
  gates: GateSpec[];
  canary?: CanaryPlan;
  /** Deny windows of this target alone (the environment's hold whole waves). */
  freezeWindows?: FreezeWindow[];
  /** The canary's stable side (`canary.stable`, `{target}` filled in): gets the digest once the last step passed. */
  canaryStable?: DeployTarget;
}

export interface ApprovalSpec {
  /** How long the promotion waits for a decision before it ends as expired. */
  expiresInMs: number;
  /** Distinct eligible approvers whose approval is needed. */
  required: number;
  /** Who may decide; undefined: anyone (only where signatures are optional and no approvers are named). */
  eligible?: string[];
  /** required: only decisions signed with the approver's key count. */
  signatures: 'required' | 'optional';
  /** Public keys (ssh-ed25519 lines) per eligible approver, pinned when the promotion starts. */
  keys: Record<string, string[]>;
  /** Reminders this long before expiry. */
  remindBeforeMs: number[];
}

export type FreezeWindow = WeeklyFreezeWindow | OneOffFreezeWindow;

export interface WeeklyFreezeWindow {
  kind: 'weekly';
  name: string;
  /** 0 = Sunday ... 6 = Saturday, in timeZone. */
  days: number[];
  /** Minutes after local midnight; `to` may be 1440 (24:00). A window with to <= from runs past midnight. */
  fromMinute: number;
  toMinute: number;
  timeZone: string;
}

export interface OneOffFreezeWindow {
  kind: 'once';
  name: string;
  /** Local date-times YYYY-MM-DDTHH:MM in timeZone. */
  from: string;
  to: string;
  timeZone: string;
}

export type DeployTarget = GitOpsTarget | KubernetesDeployTarget;

export interface GitOpsTarget {
  kind: 'gitops';
  repoUrl: string;
  branch: string;
  /** Folder of the kustomize overlay inside the repo, e.g. environments/staging. */
  path: string;
  /** The `images[].name` entry to set in kustomization.yaml. */
  imageName: string;
  /** The image repository written as `newName`. */
  newName: string;
  author: { name: string; email: string };
}

/** Sets one container of a Deployment to `<image>@<digest>` through the Kubernetes API (server-side apply). */
export interface KubernetesDeployTarget {
  kind: 'kubernetes';
  namespace: string;
  deployment: string;
  /** The container to set; absent: the Deployment's first container. */
  container?: string;
  /** The image repository the digest is pinned on (the app's image). */
  image: string;
  /** Kubeconfig file; the default loading rules apply when absent. */
  kubeconfig?: string;
  context?: string;
}

export type HealthCheck = HttpHealthCheck | KubernetesRolloutCheck | ArgoCdHealthCheck;

export interface HttpHealthCheck {
  kind: 'http';
  /** Base URL of the environment, e.g. http://127.0.0.1:8081. */
  url: string;
  versionPath: string;
  healthPath: string;
  timeoutMs: number;
  intervalMs: number;
}

export interface KubernetesRolloutCheck {
  kind: 'kubernetesRollout';
  namespace: string;
  deployment: string;
  /** Kubeconfig file; the default loading rules apply when absent. */
  kubeconfig?: string;
  context?: string;
  timeoutMs: number;
  intervalMs: number;
}

/** An Argo CD Application must be Synced and Healthy at the revision that carries the digest. */
export interface ArgoCdHealthCheck {
  kind: 'argocd';
  /** The namespace Argo CD keeps its Applications in (default argocd). */
  namespace: string;
  application: string;
  kubeconfig?: string;
  context?: string;
  timeoutMs: number;
  intervalMs: number;
}

export type GateSpec = HttpGate | CommandGate | ParityGate;

/** A Deployment somewhere: namespace and name, and how to reach its cluster. */
export interface DeploymentRef {
  namespace: string;
  deployment: string;
  kubeconfig?: string;
  context?: string;
}

/** Environment parity: target (e.g. production) against reference (e.g. staging). */
export interface ParityGate {
  kind: 'parity';
  name: string;
  reference: DeploymentRef;
  target: DeploymentRef;
  /** The container to compare; absent: each Deployment's first. */
  container?: string;
  /** Bounds for target / reference of cpu and memory requests and limits. */
  minRatio: number;
  maxRatio: number;
  timeoutMs: number;
}

export interface HttpGate {
  kind: 'http';
  name: string;
  url: string;
  expectStatus: number;
  contains?: string;
  timeoutMs: number;
}

export interface CommandGate {
  kind: 'command';
  name: string;
  run: string;
  /** As written in gantry.yaml; a relative one is resolved on the worker that runs the gate. */
  cwd?: string;
  /** A value, or the name of a variable read on the worker (secrets stay out of history). */
  env: Record<string, string | { fromEnv: string }>;
  timeoutMs: number;
  /** The environment's URL, handed to the command as GANTRY_ENV_URL. */
  environmentUrl?: string;
}
