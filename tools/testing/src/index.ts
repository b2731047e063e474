export { integrationTest, deleteByPrefix, type IntegrationFixtures } from './fixtures.js';
export { endpointsFromEnv, startTestStack, type StackEndpoints } from './stack.js';
export { collectMessages, type CollectedMessage } from './kafka.js';
