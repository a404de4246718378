// gantry.yaml as written by people (after schema validation); see schema/gantry.schema.json.
import type { OrderingPolicy } from '../pipeline/promotionLane';

export interface RepoConfig {
  url: string;
  branch?: string;
  author?: { name: string; email: string };
}

export interface RegistryConfig {
  url: string;
  repository?: string;
}

export interface EnvironmentConfig {
  name: string;
  /** Task queue of the workers inside this environment (default: the main queue). */
  taskQueue?: string;
  /** Exactly one target (the schema says so). */
  deploy: {
    gitops?: { path: string; repo?: RepoConfig; imageName?: string };
    kubernetes?: { namespace: string; deployment: string; container?: string; kubeconfig?: string; context?: string };
  };
  health?: {
    http?: { url: string; versionPath?: string; healthPath?: string; timeout?: string; interval?: string };
    kubernetesRollout?: {
      namespace: string;
      deployment: string;
      kubeconfig?: string;
      context?: string;
      timeout?: string;
      interval?: string;
    };
    argocd?: {
      application: string;
      namespace?: string;
      kubeconfig?: string;
      context?: string;
      timeout?: string;
      interval?: string;
    };
  };
  gates?: Array<{
    http?: { name?: string; url: string; expectStatus?: number; contains?: string; timeout?: string };
    command?: {
      name?: string;
      run: string;
      cwd?: string;
      env?: Record<string, string | { fromEnv: string }>;
      timeout?: string;
    };
    parity?: {
      name?: string;
      reference: ParityDeploymentConfig;
      target: ParityDeploymentConfig;
      container?: string;
      resourceRatio?: { min?: number; max?: number };
      kubeconfig?: string;
      context?: string;
      timeout?: string;
    };
  }>;
  soak?: string;
  onFailure?: 'hold' | 'rollback';
  approval?: boolean | ApprovalConfig;
  canary?: unknown;
  freeze?: FreezeWindowConfig[];
  notifications?: NotificationsConfig;
  migrations?: {
    source: { repo: string; path: string };
    database: { urlFrom: string; table?: string };
    run?: { command: string; timeout?: string };
  };
  destructiveMigrations?: { approval: ApprovalConfig };
  /** The places the environment is made of; absent: the environment is one place (its deploy). */
  targets?: Array<string | TargetConfig>;
  waves?: string[][] | { size: number | string };
  bakeTime?: string;
  maxFailures?: number | string;
  concurrency?: number;
}

/** One target: its own settings replace the environment's. */
export interface TargetConfig {
  name: string;
  taskQueue?: string;
  deploy?: EnvironmentConfig['deploy'];
  health?: EnvironmentConfig['health'];
  gates?: EnvironmentConfig['gates'];
  canary?: unknown;
  /** Deny windows of this target alone. */
  freeze?: FreezeWindowConfig[];
}

export interface ParityDeploymentConfig {
  namespace: string;
  deployment: string;
  kubeconfig?: string;
  context?: string;
}

export interface ApprovalConfig {
  required?: number;
  from?: string[];
  expiresIn?: string;
  remindBefore?: string[];
  signatures?: 'required' | 'optional';
}

export interface FreezeWindowConfig {
  name?: string;
  timeZone: string;
  weekly?: { days: Array<'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun'>; from: string; to: string };
  from?: string;
  to?: string;
}

export interface NotificationsConfig {
  webhook?: { url: string };
}

export interface AppConfig {
  image: string;
  ordering?: OrderingPolicy;
  configRepo?: RepoConfig;
  registry?: RegistryConfig;
  verify?: {
    signatures?: {
      keys?: string[];
      identities?: Array<{ issuer: string; subject?: string; subjectRegExp?: string }>;
      trustedRoot?: string;
    };
    provenance?: { builder?: string; sourceRepo?: string };
  };
  environments?: EnvironmentConfig[];
}

export interface GantryConfig {
  version: 1;
  configRepo?: RepoConfig;
  registry?: RegistryConfig;
  ordering?: OrderingPolicy;
  apps: Record<string, AppConfig>;
  environments?: EnvironmentConfig[];
  approvers?: Record<string, { keys?: string[] }>;
  allowedSigners?: string;
  /** Who may start promotions, with the keys their starts are signed with (the worker's policy). */
  starters?: Record<string, { keys?: string[] }>;
  signedStarts?: 'required' | 'optional';
  /** Who may abort, pause, resume, roll back, freeze and unfreeze, with their keys (the worker's policy). */
  operators?: Record<string, { keys?: string[] }>;
  /** Operations allowed unsigned, per environment ("*": any). Default: all, when no operators are named; none otherwise. */
  unsignedOperations?: Partial<Record<'abort' | 'pause' | 'resume' | 'rollback' | 'freeze' | 'unfreeze', string[]>>;
  groups?: Record<string, string[]>;
  freeze?: FreezeWindowConfig[];
  notifications?: NotificationsConfig;
  /** Folder of the file, for resolving relative paths; set by the loader. */
  baseDir: string;
}
