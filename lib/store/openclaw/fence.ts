/**
 * OpenClaw's OAuth refresh protocol, the parts another refresher must honour
 * (docs/openclaw.md, "Refresh lock and fence"): where its
 * per-profile refresh lock lives, and how to recognise the fence values it
 * leaves in a credential while it refreshes (never a usable token).
 *
 * @module
 */

/** The prefix of every fence value OpenClaw writes into `access` and `refresh`. */
export const REFRESH_FENCE_PREFIX = "openclaw-oauth-refresh-fence:v1:";

const FENCE_ACCESS =
  /^openclaw-oauth-refresh-fence:v1:([a-f0-9]{32}):(failed:)?access:([a-f0-9]{64})$/;
const FENCE_REFRESH =
  /^openclaw-oauth-refresh-fence:v1:([a-f0-9]{32}):(failed:)?refresh:([a-f0-9]{64})$/;

/** A parsed fence: the claim it belongs to, and whether its refresher is still at work. */
export interface RefreshFence {
  /** 32 hex digits naming one refresh claim. */
  claimId: string;
  /** `pending`: wait for it; `failed`: that refresh failed, the login is spent. */
  state: "pending" | "failed";
}

/**
 * The fence a credential holds, exactly as OpenClaw 2026.9 recognises one:
 * type `oauth`, `expires` 1, and `access`/`refresh` fence values of the same
 * claim and state. Anything else is `undefined`.
 *
 * @example
 * ```ts
 * import { parseRefreshFence } from "./fence.ts";
 * parseRefreshFence({ type: "oauth", access: "a", refresh: "r", expires: 1 }); // undefined
 * ```
 */
export function parseRefreshFence(credential: unknown): RefreshFence | undefined {
  if (typeof credential !== "object" || credential === null) return undefined;
  const { type, access, refresh, expires } = credential as Record<string, unknown>;
  if (type !== "oauth" || expires !== 1) return undefined;
  if (typeof access !== "string" || typeof refresh !== "string") return undefined;
  const a = FENCE_ACCESS.exec(access);
  const r = FENCE_REFRESH.exec(refresh);
  if (!a || !r || a[1] !== r[1] || a[2] !== r[2]) return undefined;
  return { claimId: a[1], state: a[2] ? "failed" : "pending" };
}

/** Whether a secret is (or looks like) a fence value, which is never handed out as a token. */
export function isFenceValue(secret: unknown): boolean {
  return typeof secret === "string" && secret.startsWith(REFRESH_FENCE_PREFIX);
}

/**
 * OpenClaw's per-profile refresh lock target,
 * `<state>/locks/oauth-refresh/lock-<32 hex>`; the lock itself is the sidecar
 * `<target>.lock`. The hex is two FNV-1a-64 lanes over the UTF-8 of
 * `JSON.stringify([provider, profileId])` (`oauthLockPathDigest` in
 * OpenClaw's `path-resolve` chunk).
 *
 * @example
 * ```ts
 * import { oauthRefreshLockTarget } from "./fence.ts";
 * oauthRefreshLockTarget("/s", "anthropic", "anthropic:work");
 * // "/s/locks/oauth-refresh/lock-6d37054cb0fae8cef30c968e2101f5d0"
 * ```
 */
export function oauthRefreshLockTarget(
  stateDir: string,
  provider: string,
  profileId: string,
): string {
  const digest = lockDigest(JSON.stringify([provider, profileId]));
  return `${stateDir.replace(/\/+$/, "")}/locks/oauth-refresh/lock-${digest}`;
}

const MASK = (1n << 64n) - 1n;
const PRIME = 1099511628211n;

function lockDigest(value: string): string {
  let left = 14695981039346656037n;
  let right = 11160318154034397263n;
  for (const byte of new TextEncoder().encode(value)) {
    const octet = BigInt(byte);
    left = ((left ^ octet) * PRIME) & MASK;
    right = ((right ^ (octet + 11400714819323198485n)) * PRIME) & MASK;
  }
  return left.toString(16).padStart(16, "0") + right.toString(16).padStart(16, "0");
}
