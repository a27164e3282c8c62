/**
 * clawauth's version.
 *
 * @module
 */

/** The version `clawauth --version` prints. */
export const VERSION = "0.1.0";
