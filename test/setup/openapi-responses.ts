import { takeOpenApiViolations } from '../support/openapi-responses';

/**
 * An e2e test fails when an answer it received does not match the OpenAPI document (see
 * test/support/openapi-responses.ts). Other integration tests record but do not fail: they provoke
 * outages and restarts on purpose.
 */
afterEach(() => {
  const violations = takeOpenApiViolations();
  const testPath = expect.getState().testPath ?? '';
  if (violations.length > 0 && /[/\\]test[/\\]e2e[/\\]/.test(testPath)) {
    throw new Error(`answers that do not match openapi.json:\n${violations.join('\n')}`);
  }
});
