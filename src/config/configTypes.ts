// gantry.yaml as written by people (after schema validation); see schema/gantry.schema.json.

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
  /** Exactly one target (the schema says so). */
  deploy: {
    gitops?: { path: string; repo?: RepoConfig; imageName?: string };
    kubernetes?: { namespace: string; deployment: string; container?: string; kubeconfig?: string; context?: string };
  };
  health?: {
    http?: { url: string; versionPath?: string; healthPath?: string; timeout?: string; interval?: string };
    kubernetesRollout?: { namespace: string; deployment: string; kubeconfig?: string; context?: string; timeout?: string; interval?: string };
    argocd?: { application: string; namespace?: string; kubeconfig?: string; context?: string; timeout?: string; interval?: string };
  };
  gates?: Array<{
    http?: { name?: string; url: string; expectStatus?: number; contains?: string; timeout?: string };
    command?: { name?: string; run: string; cwd?: string; env?: Record<string, string | { fromEnv: string }>; timeout?: string };
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
  approval?: boolean | ApprovalConfig;
  canary?: unknown;
  freeze?: FreezeWindowConfig[];
  notifications?: NotificationsConfig;
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
  configRepo?: RepoConfig;
  registry?: RegistryConfig;
  environments?: EnvironmentConfig[];
}

export interface GantryConfig {
  version: 1;
  configRepo?: RepoConfig;
  registry?: RegistryConfig;
  apps: Record<string, AppConfig>;
  environments?: EnvironmentConfig[];
  approvers?: Record<string, { keys?: string[] }>;
  allowedSigners?: string;
  groups?: Record<string, string[]>;
  freeze?: FreezeWindowConfig[];
  notifications?: NotificationsConfig;
  /** Folder of the file, for resolving relative paths; set by the loader. */
  baseDir: string;
}
