/**
 * The sandbox identity provider's public types, re-exported by
 * scripts/sandbox_idp.ts (import them from there).
 *
 * @module
 */

import type { CodexDeviceControls } from "./codex_device.ts";

/** Options for `startSandboxIdp`. */
export interface SandboxIdpOptions {
  /** TCP port on 127.0.0.1; default 0 (an ephemeral port). */
  port?: number;
  /** Access-token lifetime in seconds (`expires_in`); default 3600. */
  accessTokenTtlSec?: number;
  /**
   * Value of the access-token (and id_token) claim
   * `{"https://api.openai.com/auth": {"chatgpt_account_id": accountId}}`;
   * default `"acct-sandbox-1"`.
   */
  accountId?: string;
  /** The user's `email` claim (id_token, access token profile claim); default `"dev@example.test"`. */
  email?: string;
  /**
   * `interval` (seconds) advertised in device authorization responses;
   * default 1. oidc-provider itself does not enforce a polling rate.
   */
  deviceIntervalSec?: number;
  /**
   * More ids for the one public PKCE client (`clawauth-test`), e.g. OpenClaw's
   * hard-coded `app_EMoamEEZ73f0CkXaXp7hrann`. A request sent with any of
   * them is that client, so a login made under one id refreshes, revokes and
   * polls under another, as two programs sharing one real client id would.
   * Issued tokens name `clawauth-test` as their `client_id`. Default none.
   */
  clientIds?: string[];
}

/** Grant counters of a {@link SandboxIdp}. */
export interface SandboxIdpCounts {
  /** Successful authorization_code grants. */
  authorization_code: number;
  /** Successful refresh_token grants. */
  refresh_token: number;
  /** Successful device_code grants (tokens issued). */
  device_code: number;
  /** Failed refresh_token grants (e.g. `invalid_grant` on reuse). */
  refreshErrors: number;
  /** Tokens actually revoked at the revocation endpoint (unknown tokens are not counted). */
  revocations: number;
  /** Token-endpoint requests answered (or held, for "hang") by an injected fault. */
  faults: number;
}

/** A fault that the token endpoint can be told to answer with. */
export type TokenFault = "500" | "html" | "truncated" | "hang";

/**
 * Rewrites a successful token-endpoint answer (its JSON body, a copy) before
 * it is sent: drop `expires_in`, swap in hostile token values, and so on.
 */
export type TokenResponseEdit = (body: Record<string, unknown>) => Record<string, unknown>;

/**
 * A running sandbox identity provider (with OpenAI's device login emulated in
 * front of it). Disposing it (`await using`) closes it.
 */
export interface SandboxIdp extends CodexDeviceControls, AsyncDisposable {
  /** Issuer URL, e.g. `http://127.0.0.1:43123` (no trailing slash). */
  issuer: string;
  /** The registered public client: `clawauth-test`. */
  clientId: string;
  /** Authorization endpoint. */
  authorizeUrl: string;
  /** Token endpoint. */
  tokenUrl: string;
  /** Revocation endpoint (RFC 7009). */
  revocationUrl: string;
  /** Device authorization endpoint (RFC 8628). */
  deviceAuthorizationUrl: string;
  /** OpenAI-style device login: user code, polling, verification page and the exchange's redirect. */
  deviceUserCodeUrl: string;
  deviceTokenUrl: string;
  deviceVerificationUrl: string;
  deviceRedirectUri: string;
  /** A snapshot of the grant counters. */
  counts(): SandboxIdpCounts;
  /**
   * Make the next `times` (default 1) token-endpoint answers faulty:
   * "500" (HTTP 500 JSON error), "html" (200 text/html page), "truncated"
   * (200 application/json with a cut-off body), "hang" (never answers until
   * close or until the client gives up). `null` clears any pending fault.
   * Other endpoints are never affected.
   */
  setTokenFault(fault: TokenFault | null, times?: number): void;
  /**
   * Rewrite every successful token-endpoint answer (all grants) with `edit`
   * until called again with `null`. The grant itself still happens (counts
   * move, refresh tokens rotate); only what the client receives changes.
   */
  setTokenResponseEdit(edit: TokenResponseEdit | null): void;
  /**
   * Given an authorize URL that clawauth built (pointing at this IdP),
   * perform the user's browser part headlessly with fetch + a fresh cookie
   * jar (devInteractions login form with any login, consent skipped) and
   * return the final redirect URL (the callback URL with code & state, or
   * with an OAuth error) WITHOUT fetching it. `login` picks the account:
   * the default one carries the configured `accountId`/`email`; any other
   * login `x` is a different account, `acct-x` / `x@example.test`.
   */
  approve(authorizeUrl: string, login?: string): Promise<string>;
  /** Approve a device-flow user code as the user would on the verification page. */
  approveDevice(userCode: string): Promise<void>;
  /** Stop listening, drop open connections (including hung requests). Idempotent. */
  close(): Promise<void>;
}
