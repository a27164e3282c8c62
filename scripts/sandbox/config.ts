/**
 * The sandbox's oidc-provider configuration: one public PKCE client, JWT
 * access tokens for one resource, refresh tokens rotated on every use
 * (reuse revokes the grant), RFC 8628 device flow, RFC 7009 revocation, no
 * consent screen and minimal pages.
 *
 * @module
 */

// @ts-types="npm:@types/oidc-provider@9"
import type { Configuration, ResourceServer } from "oidc-provider";
import type { SandboxAccounts } from "./accounts.ts";
import { AUTH_CLAIM } from "./accounts.ts";
import { mapAdapterFactory } from "./adapter.ts";
import type { OidcModule, SigningJwk } from "./oidc_module.ts";
import { errorParagraph, escapeHtml, page } from "./pages.ts";

/** The registered public client. */
export const CLIENT_ID = "clawauth-test";
/** Scopes the client asks for; all are granted (refresh tokens come from the provider's issueRefreshToken, with or without offline_access). */
export const SCOPES = ["openid", "profile", "email", "offline_access"];
/** The one resource (RFC 8707) access tokens are for. */
export const RESOURCE = "https://api.openai.com/v1";
/** RFC 8628 §3.4 grant type. */
export const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
/** oidc-provider's routes, relative to the issuer (OpenAI's paths where it has them). */
export const ROUTES = {
  authorization: "/oauth/authorize",
  token: "/oauth/token",
  revocation: "/oauth/revoke",
  device_authorization: "/oauth/device/code",
  code_verification: "/device",
  jwks: "/jwks",
  end_session: "/session/end",
  introspection: "/oauth/introspect",
} as const;

/** What {@linkcode sandboxConfiguration} is built from. */
export interface ConfigurationInput {
  /** oidc-provider (its interaction policy and errors). */
  oidc: OidcModule;
  issuer: string;
  jwk: SigningJwk;
  accessTokenTtlSec: number;
  accounts: SandboxAccounts;
  /** More redirect URIs of the client (e.g. the emulated device login's callback). */
  redirectUris: string[];
  /** Called for each token actually revoked. */
  onRevoke(): void;
}

/** The oidc-provider configuration of a sandbox IdP. */
export function sandboxConfiguration(input: ConfigurationInput): Configuration {
  const { oidc, accounts } = input;
  const policy = oidc.interactionPolicy.base();
  // Native clients are asked for consent on every authorization by default;
  // the sandbox user has always consented (see loadExistingGrant).
  policy.get("consent")?.checks.remove("native_client_prompt");

  const resourceServer: ResourceServer = {
    scope: SCOPES.join(" "),
    audience: RESOURCE,
    accessTokenTTL: input.accessTokenTtlSec,
    accessTokenFormat: "jwt",
    jwt: { sign: { alg: "RS256" } },
  };

  return {
    adapter: mapAdapterFactory(),
    jwks: { keys: [input.jwk] },
    cookies: { keys: [crypto.randomUUID(), crypto.randomUUID()] },
    routes: ROUTES,
    clients: [{
      client_id: CLIENT_ID,
      client_name: "clawauth (sandbox)",
      application_type: "native",
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code", "refresh_token", DEVICE_GRANT],
      response_types: ["code"],
      redirect_uris: [
        "http://localhost:1455/auth/callback",
        "http://127.0.0.1:1455/auth/callback",
        "http://localhost/callback",
        "http://127.0.0.1/callback",
        ...input.redirectUris,
      ],
    }],
    scopes: SCOPES,
    responseTypes: ["code"],
    claims: {
      openid: ["sub", AUTH_CLAIM],
      email: ["email", "email_verified"],
      profile: ["name"],
    },
    // Put scope claims (email, account) into the id_token of the code flow.
    conformIdTokenClaims: false,
    // OpenAI's extra authorize parameters (Codex CLI sends them).
    extraParams: ["id_token_add_organizations", "codex_cli_simplified_flow", "originator"],
    pkce: { required: () => true },
    findAccount: accounts.findAccount,
    interactions: { policy },
    // No consent screen: an existing grant, or a new one with every scope.
    loadExistingGrant: async (ctx) => {
      const { provider, session, client } = ctx.oidc;
      const clientId = client?.clientId ?? CLIENT_ID;
      const grantId = ctx.oidc.result?.consent?.grantId ?? session?.grantIdFor(clientId);
      if (grantId) {
        const existing = await provider.Grant.find(grantId);
        if (existing) return existing;
      }
      const grant = new provider.Grant({ clientId, accountId: session?.accountId });
      grant.addOIDCScope(SCOPES.join(" "));
      grant.addOIDCClaims(["email", "email_verified", "name", AUTH_CLAIM]);
      grant.addResourceScope(RESOURCE, SCOPES.join(" "));
      await grant.save();
      return grant;
    },
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed("refresh_token"),
    rotateRefreshToken: () => true,
    expiresWithSession: () => false,
    extraTokenClaims: accounts.extraTokenClaims,
    ttl: {
      AccessToken: input.accessTokenTtlSec,
      AuthorizationCode: 600,
      DeviceCode: 600,
      IdToken: 3600,
      RefreshToken: 30 * 24 * 3600,
      Interaction: 3600,
      Session: 24 * 3600,
      Grant: 365 * 24 * 3600,
    },
    renderError: (ctx, out) => {
      ctx.type = "html";
      ctx.body = page("Error", errorParagraph(`${out.error}: ${out.error_description ?? ""}`));
    },
    features: {
      devInteractions: { enabled: true },
      // UserInfo would only accept opaque tokens without an audience; every
      // access token here is a JWT for RESOURCE, so the endpoint is off.
      userinfo: { enabled: false },
      revocation: {
        enabled: true,
        // RFC 7009 §2.1: a client revokes only its own tokens.
        allowedPolicy: (_ctx, client, token) => {
          if (token.clientId !== client.clientId) return false;
          input.onRevoke();
          return true;
        },
      },
      deviceFlow: {
        enabled: true,
        userCodeInputSource: (ctx, form, out, err) => {
          const error = err || out
            ? errorParagraph(
              `user code rejected: ${out?.error ?? "error"}: ${
                out?.error_description ?? String(err)
              }`,
            )
            : "";
          ctx.body = page("Enter code", `${error}${form}`);
        },
        userCodeConfirmSource: (ctx, form, _client, _deviceInfo, userCode) => {
          ctx.body = page("Confirm device", `<p>${escapeHtml(userCode)}</p>${form}`);
        },
        successSource: (ctx) => {
          ctx.body = page("Sign-in Success", '<p id="sandbox-device-success">ok</p>');
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          if (indicator !== RESOURCE) throw new oidc.errors.InvalidTarget();
          return resourceServer;
        },
      },
    },
  };
}
