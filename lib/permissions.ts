/**
 * The run-time flags the clawauth binary is compiled with: its permissions
 * and its V8 flags. They live in `lib/` because `connect` writes them into
 * other tools' configs when clawauth runs from source (`deno run` with
 * exactly these flags); `scripts/permissions.ts` re-exports them for the
 * compile task and the tests.
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
  // Only the user id: a state dir someone else owns is refused (lib/fs/files.ts).
  "--allow-sys=uid",
];

/**
 * V8 flags of the `clawauth` binary, for the hot path (`deno task bench`):
 * `--no-lazy` compiles each function with its module instead of on its first
 * call, so Deno's code cache holds every function and a run deserialises them
 * rather than compiling them again (about 1 ms less on `token`);
 * `--no-enable-lazy-source-positions` keeps source positions in that cache,
 * so the first exception of a run (a file that is not there) does not make V8
 * re-parse every function on the stack (0.3–1 ms). Peak memory does not grow.
 */
export const CLI_V8_FLAGS: readonly string[] = [
  "--v8-flags=--no-lazy,--no-enable-lazy-source-positions",
];

/**
 * Deno's opt-in behaviours the binary runs with: `--unstable-no-legacy-abort`
 * makes `Deno.serve`'s `request.signal` abort only when the client goes away
 * (not after every answer as well), so `clawauth proxy` can call off an
 * upstream request whose client left before the answer's headers.
 */
export const CLI_RUNTIME_FLAGS: readonly string[] = ["--unstable-no-legacy-abort"];

/** Every run-time flag of the binary: what `deno compile` embeds and what tests run with. */
export const CLI_FLAGS: readonly string[] = [
  ...CLI_PERMISSIONS,
  ...CLI_V8_FLAGS,
  ...CLI_RUNTIME_FLAGS,
];
