/**
 * Sandbox identity provider for clawauth's black-box tests and benchmarks.
 *
 * A real OAuth 2.0 / OpenID Connect provider (`npm:oidc-provider@9`) bound to
 * 127.0.0.1 only. It never contacts any other host. It knows one public PKCE
 * client, `clawauth-test` (under more ids if asked: `clientIds`), issues JWT
 * access tokens that carry an OpenAI-style `chatgpt_account_id` claim,
 * rotates refresh tokens on every use, supports the RFC 8628 device flow,
 * OpenAI's device login and RFC 7009 revocation, counts grants, and can
 * inject faults in front of its token endpoint.
 *
 * The parts live in scripts/sandbox/: `config.ts` (the oidc-provider
 * configuration), `adapter.ts` (storage), `accounts.ts` (accounts and
 * claims), `provider.ts` (the provider, counting), `front.ts` and
 * `faults.ts` (the HTTP server and injected faults), `codex_device.ts`
 * (OpenAI's device login), `browser.ts` (the person's part, headless). This
 * file is the public API.
 *
 * Module use:
 * ```ts
 * await using idp = await startSandboxIdp({ accessTokenTtlSec: 60 });
 * const callback = await idp.approve(authorizeUrlBuiltByClawauth);
 * ```
 * (or `const idp = …` and `await idp.close()`).
 *
 * Script use (prints one JSON line to stdout, runs until SIGINT/SIGTERM):
 * `deno run -A scripts/sandbox_idp.ts [--port N] [--ttl SEC]`
 *
 * @module
 */

import { DEFAULT_LOGIN } from "./sandbox/accounts.ts";
import { approveAuthorization, approveUserCode, browserAt } from "./sandbox/browser.ts";
import { CODEX_DEVICE_ROUTES, codexDeviceEmulator } from "./sandbox/codex_device.ts";
import { CLIENT_ID, ROUTES } from "./sandbox/config.ts";
import { tokenFaults } from "./sandbox/faults.ts";
import { listenFront } from "./sandbox/front.ts";
import { resolveOptions } from "./sandbox/options.ts";
import { createProvider, type SandboxProvider } from "./sandbox/provider.ts";
import type { SandboxIdp, SandboxIdpCounts, SandboxIdpOptions } from "./sandbox/types.ts";

export type { CodexDeviceControls, CodexPollAnswer } from "./sandbox/codex_device.ts";
export type {
  SandboxIdp,
  SandboxIdpCounts,
  SandboxIdpOptions,
  TokenFault,
  TokenResponseEdit,
} from "./sandbox/types.ts";

/**
 * Start a sandbox identity provider on 127.0.0.1.
 *
 * Needs `--allow-net=127.0.0.1` and `--allow-env` (oidc-provider's
 * dependencies read environment variables such as NODE_ENV and DEBUG).
 */
export async function startSandboxIdp(opts: SandboxIdpOptions = {}): Promise<SandboxIdp> {
  const options = resolveOptions(opts);
  const front = await listenFront(options.port);
  const issuer = front.origin;
  const counts: SandboxIdpCounts = {
    authorization_code: 0,
    refresh_token: 0,
    device_code: 0,
    refreshErrors: 0,
    revocations: 0,
    faults: 0,
  };
  let provider: SandboxProvider;
  try {
    provider = await createProvider(issuer, {
      ...options,
      redirectUris: [issuer + CODEX_DEVICE_ROUTES.callback],
      counts,
    });
  } catch (err) {
    await front.close();
    throw err;
  }

  const browse = browserAt(issuer);
  const faults = tokenFaults(ROUTES.token, () => counts.faults++);
  const codexDevice = codexDeviceEmulator({
    issuer,
    authorizeUrl: issuer + ROUTES.authorization,
    clientId: CLIENT_ID,
    acceptedClientIds: [CLIENT_ID, ...options.aliases],
    intervalSec: options.deviceIntervalSec,
    browse: (url, login = DEFAULT_LOGIN) => browse(url, login),
  });
  front.serve((req, res) => {
    if (codexDevice.handle(req, res) || faults.intercept(req, res)) return;
    provider.handler(req, res);
  });

  const close = (): Promise<void> => {
    faults.close();
    return front.close();
  };
  return {
    issuer,
    clientId: CLIENT_ID,
    authorizeUrl: issuer + ROUTES.authorization,
    tokenUrl: issuer + ROUTES.token,
    revocationUrl: issuer + ROUTES.revocation,
    deviceAuthorizationUrl: issuer + ROUTES.device_authorization,
    deviceUserCodeUrl: issuer + CODEX_DEVICE_ROUTES.userCode,
    deviceTokenUrl: issuer + CODEX_DEVICE_ROUTES.token,
    deviceVerificationUrl: issuer + CODEX_DEVICE_ROUTES.verification,
    deviceRedirectUri: issuer + CODEX_DEVICE_ROUTES.callback,
    approveCodexDevice: codexDevice.approveCodexDevice,
    denyCodexDevice: codexDevice.denyCodexDevice,
    expireCodexDevice: codexDevice.expireCodexDevice,
    scriptCodexPolls: codexDevice.scriptCodexPolls,
    codexPolls: codexDevice.codexPolls,
    counts: () => ({ ...counts }),
    setTokenFault: (fault, times) => faults.set(fault, times),
    setTokenResponseEdit: (edit) => provider.setTokenResponseEdit(edit),
    approve: (authorizeUrl, login = DEFAULT_LOGIN) =>
      approveAuthorization(browse, { authorizeUrl, login }),
    approveDevice: (userCode) =>
      approveUserCode(browse, {
        verificationUrl: issuer + ROUTES.code_verification,
        userCode,
        login: DEFAULT_LOGIN,
      }),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * The `clawauth.json` provider entry (docs/providers.md#clawauthjson) that points a
 * provider at this sandbox, with the given redirect URI. `openaiDevice` adds
 * the OpenAI device-login endpoints, which then take precedence over RFC 8628
 * (openai-codex has them built in, so its entry must point them here too).
 */
export function providerOverride(
  idp: SandboxIdp,
  redirectUri: string,
  openaiDevice = false,
): Record<string, string> {
  return {
    issuer: idp.issuer,
    authorizeUrl: idp.authorizeUrl,
    tokenUrl: idp.tokenUrl,
    revocationUrl: idp.revocationUrl,
    deviceAuthorizationUrl: idp.deviceAuthorizationUrl,
    ...(openaiDevice
      ? {
        deviceUserCodeUrl: idp.deviceUserCodeUrl,
        deviceTokenUrl: idp.deviceTokenUrl,
        deviceVerificationUrl: idp.deviceVerificationUrl,
        deviceRedirectUri: idp.deviceRedirectUri,
      }
      : {}),
    clientId: idp.clientId,
    redirectUri,
  };
}

// ---------------------------------------------------------------------------
// Script mode

const USAGE = "usage: sandbox_idp.ts [--port N] [--ttl SEC]";

/** Parses `--port N` / `--ttl SEC`; undefined on any other argument. */
function parseArgs(args: string[]): { port?: number; ttl?: number } | undefined {
  const out: { port?: number; ttl?: number } = {};
  for (let i = 0; i < args.length; i += 2) {
    const value = Number(args[i + 1]);
    if (args[i + 1] === undefined || !Number.isSafeInteger(value)) return undefined;
    if (args[i] === "--port") out.port = value;
    else if (args[i] === "--ttl") out.ttl = value;
    else return undefined;
  }
  return out;
}

async function main(args: string[]): Promise<void> {
  const parsed = parseArgs(args);
  if (!parsed) {
    console.error(USAGE);
    Deno.exit(2);
  }
  const idp = await startSandboxIdp({ port: parsed.port, accessTokenTtlSec: parsed.ttl });
  const { issuer, clientId, authorizeUrl, tokenUrl, revocationUrl, deviceAuthorizationUrl } = idp;
  console.log(JSON.stringify({
    issuer,
    clientId,
    authorizeUrl,
    tokenUrl,
    revocationUrl,
    deviceAuthorizationUrl,
  }));
  await new Promise<void>((resolve) => {
    Deno.addSignalListener("SIGINT", resolve);
    Deno.addSignalListener("SIGTERM", resolve);
  });
  await idp.close();
  Deno.exit(0);
}

if (import.meta.main) {
  await main(Deno.args);
}
