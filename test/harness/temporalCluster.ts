// The production-shaped Temporal for one test file (src/local/temporalCluster.ts, shared with the benchmarks).
import { startTemporalCluster, type TemporalCluster } from '../../src/local/temporalCluster';

export { startTemporalCluster, TEMPORAL_SERVER_BIN, type TemporalCluster } from '../../src/local/temporalCluster';

/** Starts the cluster in beforeAll and stops it in afterAll; the getter is valid inside tests. */
export function useTemporalCluster(): () => TemporalCluster {
  let cluster: TemporalCluster | undefined;
  beforeAll(async () => {
    cluster = await startTemporalCluster();
  }, 360_000);
  afterAll(async () => {
    await cluster?.stop();
  }, 120_000);
  return () => {
    if (!cluster) throw new Error('the PostgreSQL-backed Temporal did not start (see beforeAll)');
    return cluster;
  };
}
