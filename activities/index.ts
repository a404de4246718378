// The activities a Gantry worker registers. Each stage's side effects live in its own file.
import { verifyArtifact } from './verifyArtifact';
import { deploy } from './deploy';
import { checkHealth } from './health';
import { runGate } from './gates';

export function createActivities() {
  return { verifyArtifact, deploy, checkHealth, runGate };
}
