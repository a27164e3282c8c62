/**
 * `clawauth kube-credential`: a kubectl exec credential plugin (client-go's
 * `ExecCredential`) for clusters behind an OIDC provider. It prints the
 * token, obtained as `clawauth token` obtains it, with
 * `status.expirationTimestamp` (RFC 3339) when the expiry is known. kubectl
 * keeps the credential until that time and runs the plugin again after it
 * or after a 401, so the time given is a minute before the real expiry: the
 * token is never sent in its last moments, when clocks that disagree would
 * have the API server refuse it.
 *
 * @module
 */

import { safeText } from "../output/output.ts";
import { defineCommand, GLOBAL_HELP } from "../command.ts";
import { HELPER_FLAGS, HELPER_FLAGS_HELP } from "../connect/credential_helper.ts";
import { obtainCredential } from "../routing/credential.ts";
import { ClawauthError, Exit } from "../errors.ts";
import { isObject, parseJson } from "../json/json.ts";
import { routingOrder } from "../openclaw_config.ts";
import { resolvePaths } from "../paths.ts";
import { requestOf } from "../routing/select.ts";
import { openStore } from "../store.ts";

const NAME = "kube-credential";
/** How much earlier than the token's expiry kubectl is told to ask again. */
const EXPIRY_MARGIN_MS = 60_000;
const API_VERSIONS = ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"];

/** The apiVersion kubectl asked for (KUBERNETES_EXEC_INFO); it must be answered in kind. */
function apiVersionOf(info: string | undefined): string {
  if (!info) return API_VERSIONS[0];
  const data = parseJson(info, () =>
    new ClawauthError(
      "KUBERNETES_EXEC_INFO is not JSON.",
      Exit.data,
      "Run kube-credential through kubectl, or unset KUBERNETES_EXEC_INFO.",
    ));
  const version = isObject(data) ? data.apiVersion : undefined;
  if (typeof version !== "string" || !API_VERSIONS.includes(version)) {
    throw new ClawauthError(
      `kubectl asked for ${safeText(String(version))}, which clawauth does not speak.`,
      Exit.data,
      `Use apiVersion ${API_VERSIONS[0]} in the kubeconfig's exec section.`,
    );
  }
  return version;
}

/** The `kube-credential` command. */
export const command = defineCommand({
  flags: HELPER_FLAGS,
  help: `Usage: clawauth kube-credential [--provider ID | --profile ID] [--min-valid 5m]

A kubectl exec credential plugin: prints an ExecCredential
  {"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",
   "status":{"token":"…","expirationTimestamp":"2026-01-01T00:00:00Z"}}
for clusters behind an OIDC provider declared in clawauth.json. The token is
refreshed first when it expires within --min-valid; expirationTimestamp is a
minute before the token's expiry (omitted when it has none), so kubectl asks
again in time. kubectl runs the plugin again after that time or a 401.

kubeconfig:
  users:
  - name: acme
    user:
      exec:
        apiVersion: client.authentication.k8s.io/v1
        command: /home/me/.local/bin/clawauth
        args: ["kube-credential", "--provider", "acme"]
        interactiveMode: Never

${HELPER_FLAGS_HELP}
${GLOBAL_HELP}

Examples:
  clawauth kube-credential --provider acme
  kubectl --user acme get pods`,
  async run(ctx, args) {
    const apiVersion = apiVersionOf(ctx.env("KUBERNETES_EXEC_INFO"));
    const request = requestOf(args, NAME);
    const paths = resolvePaths(args, ctx);
    const store = await openStore(ctx, paths);
    const { profile, secret } = await obtainCredential(ctx, paths, store, request, {
      minValidMs: args["min-valid"],
      externalOrder: await routingOrder(ctx, paths.openclawConfig, request),
    });
    const expires = profile.expires;
    // Never earlier than now: a token with less than the margin left is still handed out once.
    const until = expires === null ? undefined : Math.max(expires - EXPIRY_MARGIN_MS, ctx.now());
    const status = {
      token: secret,
      ...(until === undefined
        ? {}
        : { expirationTimestamp: new Date(until).toISOString().replace(/\.\d{3}Z$/, "Z") }),
    };
    ctx.out(`${JSON.stringify({ apiVersion, kind: "ExecCredential", status })}\n`);
    return Exit.ok;
  },
});
