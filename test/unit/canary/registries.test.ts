// A router or metric provider is its file, its schema definition and its registry line: these keep
// the schema and the registries naming the same kinds.
import { metricProviders } from '../../../activities/metrics';
import { trafficRouters } from '../../../activities/traffic';
import canarySchema from '../../../schema/canary.schema.json';

test('the schema offers exactly the routers and metric providers the registries hold', () => {
  expect(Object.keys(canarySchema.properties.router.properties).sort()).toEqual(Object.keys(trafficRouters).sort());
  expect(Object.keys(canarySchema.properties.metrics.properties).sort()).toEqual(Object.keys(metricProviders).sort());
});
