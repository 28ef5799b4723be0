import { readFileSync } from 'node:fs';
import { OPENAPI_FILE, generateOpenApiJson } from '../../src/cli/openapi';

describe('committed OpenAPI document', () => {
  it('matches what the code generates (run `npm run openapi` after changing the API)', async () => {
    const committed = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8'));
    const generated = JSON.parse(await generateOpenApiJson());
    expect(generated).toEqual(committed);
  });
});
