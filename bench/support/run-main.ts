// A benchmark's entry point: exits 0 when `main` resolves, 1 with the error's stack when it rejects
// (a browser or server left running must not keep the process alive either way).
export function runMain(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : err);
      process.exit(1);
    },
  );
}
