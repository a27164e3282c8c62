/**
 * The permissions the clawauth binary is compiled with. Tests run the CLI
 * with exactly these flags, so they exercise what the binary may do. Defined
 * in `lib/permissions.ts` (`connect` needs them at run time, and `lib/` never
 * imports `scripts/`).
 *
 * @module
 */

export { CLI_PERMISSIONS } from "../lib/permissions.ts";
