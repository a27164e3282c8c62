/**
 * A provider as oauth4webapi sees it: its authorization server (endpoints
 * from clawauth's settings, else discovered from the issuer), its public
 * client, and the request options every step shares.
 *
 * @module
 */

import * as oauth from "oauth4webapi";
import type { Context } from "../context.ts";
import { ClawauthError, Exit } from "../errors.ts";
import type { OAuthSettings, ProviderDefinition } from "../provider/definition.ts";
import { endpoint, guardedFetch, httpTimeoutMs } from "./http.ts";
import { protocolStep } from "./step.ts";

/** A provider's authorization server and client, ready for oauth4webapi. */
export interface OAuthTarget {
  providerId: string;
  settings: OAuthSettings;
  as: oauth.AuthorizationServer;
  client: oauth.Client;
  options: oauth.TokenEndpointRequestOptions;
}

/**
 * Builds the oauth4webapi view of a provider, discovering endpoints from its
 * issuer when needed. `opts.timeoutMs` bounds each request (default
 * {@linkcode httpTimeoutMs}; a refresh under the store lock passes
 * `refreshTimeoutMs` of http.ts).
 */
export async function oauthTarget(
  ctx: Context,
  provider: ProviderDefinition,
  opts: { timeoutMs?: number } = {},
): Promise<OAuthTarget> {
  const settings = provider.oauth;
  if (!settings?.clientId) {
    throw new ClawauthError(
      `Provider ${provider.id} has no OAuth client configured.`,
      Exit.data,
      `Declare it in clawauth.json: {"providers": {"${provider.id}": {"issuer": "…", "clientId": "…"}}}`,
    );
  }
  const timeout = opts.timeoutMs ?? httpTimeoutMs(ctx);
  const insecure = [settings.issuer, settings.tokenUrl, settings.authorizeUrl]
    .some((u) => u !== undefined && URL.canParse(u) && new URL(u).protocol === "http:");
  // Every request of this target goes through ctx.fetch, never the global one.
  const fetcher = guardedFetch(settings, ctx.fetch);
  const options: oauth.TokenEndpointRequestOptions = {
    signal: () => AbortSignal.timeout(timeout),
    [oauth.allowInsecureRequests]: insecure,
    [oauth.customFetch]: fetcher,
  };
  let as: oauth.AuthorizationServer;
  const incomplete = !settings.tokenUrl ||
    (!settings.authorizeUrl && !settings.deviceAuthorizationUrl);
  if (settings.issuer && incomplete) {
    const issuer = new URL(endpoint(provider.id, "issuer", settings.issuer)!);
    as = await protocolStep(
      provider.id,
      "discovery",
      async () =>
        oauth.processDiscoveryResponse(
          issuer,
          await oauth.discoveryRequest(issuer, {
            signal: options.signal,
            [oauth.allowInsecureRequests]: insecure,
            [oauth.customFetch]: fetcher,
          }),
        ),
    );
  } else {
    as = {
      issuer: settings.issuer ??
        new URL(settings.tokenUrl ?? "https://invalid").origin,
    };
  }
  const pick = (
    name: string,
    own: string | undefined,
    discovered: string | undefined,
  ) => endpoint(provider.id, name, own ?? discovered);
  as = {
    ...as,
    authorization_endpoint: pick(
      "authorizeUrl",
      settings.authorizeUrl,
      as.authorization_endpoint,
    ),
    token_endpoint: pick("tokenUrl", settings.tokenUrl, as.token_endpoint),
    revocation_endpoint: pick(
      "revocationUrl",
      settings.revocationUrl,
      as.revocation_endpoint,
    ),
    device_authorization_endpoint: pick(
      "deviceAuthorizationUrl",
      settings.deviceAuthorizationUrl,
      as.device_authorization_endpoint,
    ),
  };
  return {
    providerId: provider.id,
    settings,
    as,
    client: { client_id: settings.clientId },
    options,
  };
}
