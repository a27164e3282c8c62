/**
 * The permissions the clawauth binary is compiled with. Tests run the CLI
 * with exactly these flags, so they exercise what the binary may do.
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
  // Only the user id: a state dir someone else owns is refused (lib/files.ts).
  "--allow-sys=uid",
];
