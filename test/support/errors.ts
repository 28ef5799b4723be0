import { DomainError } from '../../src/common/domain-error';

/** The stable code of the DomainError that `run` throws; fails the test when it throws nothing or something else. */
export function domainErrorCode(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
  throw new Error('did not throw');
}
