import { Network1763800000000 } from './1763800000000-network';

/** Every migration, in order. Listed explicitly so the same code runs from TypeScript and from dist/. */
export const MIGRATIONS = [Network1763800000000];
