/**
 * The OAuth protocol steps clawauth composes (RFC 6749, RFC 7636 PKCE,
 * RFC 8628, RFC 7009), all through oauth4webapi: the public surface of
 * `lib/oauth/`. Loaded only by login, refresh, `remove` (revocation) and
 * `doctor`, never on the `token` hot path; `lib/lazy.ts` names this module.
 *
 * - target.ts: a provider as oauth4webapi sees it ({@linkcode oauthTarget})
 * - grants.ts: PKCE, authorize URL, code exchange, refresh, revocation
 * - device_grant.ts: the device authorization grant (RFC 8628)
 * - tokens.ts: what a token response may hand clawauth, checked
 * - http.ts: timeouts, endpoint URLs, a fetch that never follows redirects
 * - step.ts: the one place protocol failures become `ClawauthError`s
 *
 * @module
 */

export { type OAuthTarget, oauthTarget } from "./target.ts";
export { authorizeUrl, exchangeCode, newPkce, refreshTokens, revokeToken } from "./grants.ts";
export { deviceLogin, type DevicePrompt } from "./device_grant.ts";
export type { TokenSet } from "./tokens.ts";
export { httpTimeoutMs, refreshTimeoutMs } from "./http.ts";
export { isRejectedGrant } from "./step.ts";
