/**
 * What the commands other programs run as credential helpers
 * (`git-credential`, `kube-credential`) share: they choose a profile as
 * `token` does, except by model (neither git nor kubectl names one), and
 * refresh a token that would expire within `--min-valid`.
 *
 * @module
 */

import { flag } from "../flags.ts";
import { SELECT_FLAGS } from "../routing/select.ts";

/** The flags of a credential helper. */
export const HELPER_FLAGS = {
  provider: SELECT_FLAGS.provider,
  profile: SELECT_FLAGS.profile,
  "min-valid": flag.duration({ default: "5m" }),
};

/** The "Flags:" section of a credential helper's help, for {@linkcode HELPER_FLAGS}. */
export const HELPER_FLAGS_HELP = `Flags:
  --provider ID     route among this provider's profiles
  --profile ID      use exactly this profile
  --min-valid SPAN  refresh when the token expires sooner than this (default 5m)`;
