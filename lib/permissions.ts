/**
 * The permissions the clawauth binary is compiled with. They live in `lib/`
 * because `connect` writes them into other tools' configs when clawauth runs
 * from source (`deno run` with exactly these flags); `scripts/permissions.ts`
 * re-exports them for the compile task and the tests.
 *
 * @module
 */

/** Deno permission flags of the `clawauth` binary. */
export const CLI_PERMISSIONS: readonly string[] = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-net",
  "--allow-run",
  // Only the user id: a state dir someone else owns is refused (lib/store/files.ts).
  "--allow-sys=uid",
];
