/**
 * `clawauth kube-credential`: kubectl's exec credential plugin protocol
 * (client.authentication.k8s.io ExecCredential), for clusters behind an
 * OIDC provider; the sandbox IdP stands in for it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { tempState } from "../helpers.ts";
import { idpFor, loginVia, profilesOf, setExpires } from "../oauth_helpers.ts";

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

Deno.test("kube-credential prints an ExecCredential v1 whose expirationTimestamp is a minute before the token expires, refreshing first when due", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state);
  const id = await loginVia(idp, state);
  const result = await state.run(["kube-credential", "--profile", id]);
  assert.equal(result.code, 0, result.stderr);
  assert.ok(result.stdout.endsWith("}\n") && !result.stdout.slice(0, -1).includes("\n"));
  const credential = JSON.parse(result.stdout);
  const profile = profilesOf(state)[id];
  assert.deepEqual(Object.keys(credential), ["apiVersion", "kind", "status"]);
  assert.equal(credential.apiVersion, "client.authentication.k8s.io/v1");
  assert.equal(credential.kind, "ExecCredential");
  assert.equal(credential.status.token, profile.access);
  assert.match(credential.status.expirationTimestamp, RFC3339);
  const at = Date.parse(credential.status.expirationTimestamp);
  const expires = Number(profile.expires);
  assert.ok(at <= expires - 60_000 && at > expires - 61_000, `${at} vs ${expires}`);

  setExpires(state, id, Date.now() + 60_000);
  const due = await state.run(["kube-credential", "--profile", id]);
  assert.equal(due.code, 0, due.stderr);
  assert.equal(idp.counts().refresh_token, 1, "one minute left is below --min-valid 5m");
  assert.equal(JSON.parse(due.stdout).status.token, profilesOf(state)[id].access);
});

Deno.test("kube-credential answers in the apiVersion kubectl asks for, omits expirationTimestamp when the token has no expiry, and refuses an unknown one", async () => {
  await using state = await tempState();
  const key = "sk-proj-kube-0123456789abcdefghijklmnopqrs";
  assert.equal(
    (await state.run(["paste-token", "--provider", "openai", "--type", "api-key"], {
      stdin: `${key}\n`,
    })).code,
    0,
  );
  const info = (apiVersion: string) =>
    JSON.stringify({ apiVersion, kind: "ExecCredential", spec: { interactive: false } });
  const beta = await state.run(["kube-credential", "--provider", "openai"], {
    env: { KUBERNETES_EXEC_INFO: info("client.authentication.k8s.io/v1beta1") },
  });
  assert.equal(beta.code, 0, beta.stderr);
  assert.deepEqual(JSON.parse(beta.stdout), {
    apiVersion: "client.authentication.k8s.io/v1beta1",
    kind: "ExecCredential",
    status: { token: key },
  });
  const alpha = await state.run(["kube-credential", "--provider", "openai"], {
    env: { KUBERNETES_EXEC_INFO: info("client.authentication.k8s.io/v1alpha1") },
  });
  assert.equal(alpha.code, 65);
  assert.equal(alpha.stdout, "");
  const missing = await state.run(["kube-credential", "--provider", "acme"]);
  assert.equal(missing.code, 77);
  assert.equal(missing.stdout, "");
});
