import { ConfigError } from '../config/config';
import { LocalServiceError } from '../local-services/system';

/** Runs a command-line entry point: known failures print one clear line, others their stack. */
export function runCommand(command: () => Promise<void>): void {
  command().catch((error: unknown) => {
    const known = error instanceof ConfigError || error instanceof LocalServiceError;
    process.stderr.write(`${known ? (error).message : String((error as Error)?.stack ?? error)}\n`);
    process.exit(1);
  });
}
