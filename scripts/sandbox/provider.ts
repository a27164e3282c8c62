/**
 * The sandbox's oidc-provider instance: its configuration, the client's
 * extra ids, grant counting, the RFC 8628 polling interval and the hook that
 * rewrites token answers.
 *
 * @module
 */

import type { IncomingMessage } from "node:http";
// @ts-types="npm:@types/oidc-provider@9"
import type { KoaContextWithOIDC, Provider } from "oidc-provider";
import { sandboxAccounts } from "./accounts.ts";
import { CLIENT_ID, DEVICE_GRANT, sandboxConfiguration } from "./config.ts";
import type { Handler } from "./front.ts";
import { getSigningKey, loadOidcProvider } from "./oidc_module.ts";
import type { ResolvedOptions } from "./options.ts";
import type { SandboxIdpCounts, TokenResponseEdit } from "./types.ts";

/** A configured oidc-provider, as the front and the public handle use it. */
export interface SandboxProvider {
  /** oidc-provider's request handler. */
  handler: Handler;
  /** `SandboxIdp.setTokenResponseEdit`. */
  setTokenResponseEdit(edit: TokenResponseEdit | null): void;
}

/** What {@linkcode createProvider} needs besides the options. */
export interface ProviderInput {
  /** More redirect URIs of the client (the emulated device login's callback). */
  redirectUris: string[];
  /** Counters this provider moves (grants and revocations). */
  counts: SandboxIdpCounts;
}

/** Creates the oidc-provider for the issuer `issuer`. */
export async function createProvider(
  issuer: string,
  input: ResolvedOptions & ProviderInput,
): Promise<SandboxProvider> {
  const [oidc, jwk] = await Promise.all([loadOidcProvider(), getSigningKey()]);
  const { counts } = input;
  const provider = new oidc.Provider(
    issuer,
    sandboxConfiguration({
      oidc,
      issuer,
      jwk,
      accessTokenTtlSec: input.accessTokenTtlSec,
      accounts: sandboxAccounts({ accountId: input.accountId, email: input.email }),
      redirectUris: input.redirectUris,
      onRevoke: () => counts.revocations++,
    }),
  );
  aliasClient(provider, input.aliases);
  countGrants(provider, counts);
  advertiseInterval(provider, input.deviceIntervalSec);
  let tokenEdit: TokenResponseEdit | null = null;
  provider.use(async (ctx, next) => {
    await next();
    if (
      tokenEdit && ctx.oidc?.route === "token" && ctx.status === 200 &&
      typeof ctx.body === "object" && ctx.body !== null
    ) {
      ctx.body = tokenEdit({ ...(ctx.body as Record<string, unknown>) });
    }
  });
  const callback = provider.callback(); // after every `use`: Koa composes them here
  return {
    handler: (req, res) => void callback(req, res),
    setTokenResponseEdit(edit): void {
      tokenEdit = edit;
    },
  };
}

/**
 * Makes each of `aliases` another id of the one registered client: a request
 * carrying one as `client_id` (query or form body) reaches oidc-provider
 * with {@linkcode CLIENT_ID} instead, so codes, grants and tokens are shared
 * and reuse detection spans the ids. Form bodies are read here, and
 * oidc-provider takes an already-read body from `req.body`.
 */
function aliasClient(provider: Provider, aliases: readonly string[]): void {
  if (aliases.length === 0) return;
  const isAlias = (id: unknown): boolean => typeof id === "string" && aliases.includes(id);
  provider.use(async (ctx, next) => {
    if (isAlias(ctx.query.client_id)) ctx.query = { ...ctx.query, client_id: CLIENT_ID };
    if (ctx.method === "POST" && ctx.is("application/x-www-form-urlencoded")) {
      let body = await new Response(ReadableStream.from<Uint8Array>(ctx.req)).text();
      const form = new URLSearchParams(body);
      if (isAlias(form.get("client_id"))) {
        form.set("client_id", CLIENT_ID);
        body = form.toString();
      }
      (ctx.req as IncomingMessage & { body?: string }).body = body;
    }
    await next();
  });
}

/** Counts successful grants by type and failed refresh grants. */
function countGrants(provider: Provider, counts: SandboxIdpCounts): void {
  provider.on("grant.success", (ctx: KoaContextWithOIDC) => {
    switch (ctx.oidc.params?.grant_type) {
      case "authorization_code":
        counts.authorization_code++;
        break;
      case "refresh_token":
        counts.refresh_token++;
        break;
      case DEVICE_GRANT:
        counts.device_code++;
        break;
    }
  });
  provider.on("grant.error", (ctx: KoaContextWithOIDC) => {
    if (ctx.oidc?.params?.grant_type === "refresh_token") counts.refreshErrors++;
  });
  provider.on("server_error", (_ctx: KoaContextWithOIDC, err: unknown) => {
    console.error("sandbox IdP: server_error:", err);
  });
}

/** RFC 8628 §3.2 `interval` (oidc-provider omits it, so clients would wait 5 s). */
function advertiseInterval(provider: Provider, intervalSec: number): void {
  provider.use(async (ctx, next) => {
    await next();
    if (
      ctx.oidc?.route === "device_authorization" && ctx.status === 200 &&
      typeof ctx.body === "object" && ctx.body !== null
    ) {
      ctx.body = { ...ctx.body, interval: intervalSec };
    }
  });
}
