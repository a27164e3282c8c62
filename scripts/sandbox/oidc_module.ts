/**
 * oidc-provider, loaded lazily and quietly, and the sandbox's signing key
 * (one per process: RSA key generation is the slow part).
 *
 * @module
 */

// @ts-types="npm:@types/oidc-provider@9"
import type * as OidcProviderModule from "oidc-provider";

/** The `oidc-provider` module. */
export type OidcModule = typeof OidcProviderModule;

/**
 * oidc-provider prints notices with console.info (stdout) and warnings with
 * console.warn. stdout is reserved, so its messages are filtered: the
 * expected ones for a development sandbox are dropped, anything else goes
 * to stderr once.
 */
const EXPECTED_MESSAGES = [
  "Unsupported runtime",
  "devInteractions is enabled",
  // Client id aliases read form bodies before oidc-provider does (provider.ts).
  "already parsed request body detected",
];
const PROVIDER_MESSAGE = /oidc-provider (NOTICE|WARNING):/;
let consoleFiltered = false;
function filterProviderConsole(): void {
  if (consoleFiltered) return;
  consoleFiltered = true;
  const seen = new Set<string>();
  const wrap = (
    original: (...data: unknown[]) => void,
  ): (...data: unknown[]) => void =>
  (...data: unknown[]): void => {
    const first = data[0];
    if (typeof first === "string" && PROVIDER_MESSAGE.test(first)) {
      if (EXPECTED_MESSAGES.some((m) => first.includes(m))) return;
      if (seen.has(first)) return;
      seen.add(first);
      console.error(...data);
      return;
    }
    original.apply(console, data);
  };
  console.info = wrap(console.info);
  console.warn = wrap(console.warn);
}

let oidcModule: Promise<OidcModule> | undefined;

/** The oidc-provider module, with its console notices filtered first. */
export function loadOidcProvider(): Promise<OidcModule> {
  filterProviderConsole();
  // Imported lazily so that the filter is in place before oidc-provider's
  // import-time warning, and so importing the sandbox stays cheap.
  oidcModule ??= import("oidc-provider") as Promise<OidcModule>;
  return oidcModule;
}

/** A private RS256 signing key as a JWK. */
export interface SigningJwk {
  kty: string;
  kid: string;
  use: "sig";
  alg: "RS256";
  n: string;
  e: string;
  d: string;
  p: string;
  q: string;
  dp: string;
  dq: string;
  qi: string;
}

let signingKey: Promise<SigningJwk> | undefined;

/** The process's signing key, generated on first use. */
export function getSigningKey(): Promise<SigningJwk> {
  signingKey ??= (async (): Promise<SigningJwk> => {
    const pair = await crypto.subtle.generateKey(
      {
        name: "RSASSA-PKCS1-v1_5",
        modulusLength: 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: "SHA-256",
      },
      true,
      ["sign", "verify"],
    );
    const jwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
    const part = (v: string | undefined): string => {
      if (!v) throw new Error("sandbox IdP: incomplete RSA JWK");
      return v;
    };
    return {
      kty: "RSA",
      kid: `sandbox-${crypto.randomUUID().slice(0, 8)}`,
      use: "sig",
      alg: "RS256",
      n: part(jwk.n),
      e: part(jwk.e),
      d: part(jwk.d),
      p: part(jwk.p),
      q: part(jwk.q),
      dp: part(jwk.dp),
      dq: part(jwk.dq),
      qi: part(jwk.qi),
    };
  })();
  return signingKey;
}
