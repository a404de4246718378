// Every workflow the Gantry worker registers.
export { promoteArtifact } from './promoteArtifact';
export { freezeRegistry } from './freezeRegistry';
export { canaryAnalysis } from './canaryAnalysis';
export { driftCheck } from './driftCheck';
export { promotionLane } from './promotionLane';
export { deployTarget } from './deployTarget';
