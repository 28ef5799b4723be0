/**
 * Everything written to stdout and stderr until `restore` (the service's logs: under Jest pino writes
 * through process.stdout). A test using it should check that lines were captured, so that it cannot pass on nothing.
 */
export function captureOutput(): { text: () => string; restore: () => void } {
  const chunks: string[] = [];
  const spies = [process.stdout, process.stderr].map((stream) =>
    jest.spyOn(stream, 'write').mockImplementation(((data: unknown) => {
      chunks.push(String(data));
      return true;
    })),
  );
  return { text: () => chunks.join(''), restore: () => spies.forEach((spy) => spy.mockRestore()) };
}
