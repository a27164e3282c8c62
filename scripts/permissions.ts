/**
 * The permissions and V8 flags the clawauth binary is compiled with. Tests
 * run the CLI with exactly these flags, so they exercise what the binary may
 * do, the way it runs. Defined
 * in `lib/permissions.ts` (`connect` needs them at run time, and `lib/` never
 * imports `scripts/`).
 *
 * @module
 */

export { CLI_FLAGS, CLI_PERMISSIONS, CLI_RUNTIME_FLAGS, CLI_V8_FLAGS } from "../lib/permissions.ts";
