/**
 * Attacks on the login's way back, re-run through the real CLI: stray
 * requests on the callback listener, tampered or exposed pending logins, and
 * a login answered by another account than the one asked for.
 *
 * @module
 */

import assert from "node:assert/strict";
import { providerOverride } from "../../scripts/sandbox_idp.ts";
import { type TempState, tempState } from "../helpers.ts";
import {
  CODE_LINE,
  idpFor,
  interactiveLogin,
  profilesOf,
  startCli,
  startLogin,
  URL_LINE,
} from "../oauth_helpers.ts";
import {
  assertTerminalSafe,
  HOSTILE_TEXT,
  setProvider,
  storeMissing,
  UNSAFE,
} from "../hardening_login_support.ts";

/** The one pending-login file of the main agent. */
function pendingFile(state: TempState): string {
  const dir = `${state.agentDir()}/pending`;
  const names = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".json"));
  assert.equal(names.length, 1, `one pending login: ${names}`);
  return `${dir}/${names[0]}`;
}

/** An HTTP/1.1 GET with a Host header of our choosing (fetch will not send a foreign one). */
async function rawGet(
  port: number,
  target: string,
  host: string,
): Promise<{ status: number; text: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(
    new TextEncoder().encode(
      `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
    ),
  );
  const text = await new Response(conn.readable).text();
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]), text };
}

// ---------------------------------------------------------------------------
// (5) Stray requests on the callback listener

Deno.test("listener: stray requests (no or wrong state, foreign Host) get 400 and the login keeps waiting for the real callback", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state);
  const { cli, url } = await interactiveLogin(state, ["--json"]);
  await cli.waitForStderr(/Waiting for the browser/);
  const port = idp.callbackPort;
  const callback = new URL(await idp.approve(url));
  const path = `${callback.pathname}${callback.search}`;
  const strays: [string, string][] = [
    ["/auth/callback?code=x", `127.0.0.1:${port}`],
    ["/auth/callback?code=x&state=forged", `127.0.0.1:${port}`],
    ["/auth/callback?state=%3Cscript%3Ealert(1)%3C%2Fscript%3E&code=x", `localhost:${port}`],
    ["/auth/callback?error=access_denied&state=forged", `127.0.0.1:${port}`],
    ["/auth/callback", `127.0.0.1:${port}`],
    // DNS rebinding: the right state does not help a foreign or wrong host name.
    [path, `evil.example:${port}`],
    [path, `evil.example`],
    [path, `127.0.0.1.evil.example:${port}`],
    [path, `127.0.0.1:${port + 1}`],
    [path, `localhost`],
  ];
  for (const [target, host] of strays) {
    const answer = await rawGet(port, target, host);
    assert.equal(answer.status, 400, `${host}${target}: ${answer.text}`);
    assert.match(answer.text, /content-security-policy: default-src 'none'/i);
    assert.doesNotMatch(answer.text, /<script>/);
  }
  // The real answer, through the host name the openai-codex redirect URI uses.
  const real = await rawGet(port, path, `localhost:${port}`);
  assert.equal(real.status, 200, real.text);
  const result = await cli.result();
  assert.equal(result.code, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout).profile, "openai-codex:dev@example.test");
  assert.equal(
    result.stderr.match(/turned away a request/g)?.length,
    1,
    "said once, not once per stray request",
  );
  assert.equal(idp.counts().authorization_code, 1);
});

Deno.test("listener: a callback with the right state and error= still ends the login, with the provider's text neutralised", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state);
  for (const hostile of HOSTILE_TEXT.slice(0, 3)) {
    const { cli, url: href } = await interactiveLogin(state);
    const url = new URL(href);
    await cli.waitForStderr(/Waiting for the browser/);
    const callback = new URL(`http://127.0.0.1:${idp.callbackPort}/auth/callback`);
    callback.searchParams.set("error", "access_denied");
    callback.searchParams.set("error_description", hostile);
    callback.searchParams.set("state", url.searchParams.get("state")!);
    const page = await fetch(callback);
    assert.equal(page.status, 400);
    assert.ok(!UNSAFE.test(await page.text()), "the page is neutralised too");
    const result = await cli.result();
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /access_denied/);
    assertTerminalSafe(result, JSON.stringify(hostile));
    assert.ok(storeMissing(state), "nothing stored");
  }
});

// ---------------------------------------------------------------------------
// (11) Tampered or exposed pending logins

Deno.test("login --finish refuses a tampered pending login (exit 65): nothing is exchanged or stored", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state);
  const tamper: [string, (pending: Record<string, unknown>) => void][] = [
    ["profile with a newline", (p) => (p.profile = "work\nevil")],
    ["profile with U+202E", (p) => (p.profile = "work\u202etxt")],
    ["profile with a slash", (p) => (p.profile = "../../x")],
    ["profile empty", (p) => (p.profile = "")],
    ["profile not a string", (p) => (p.profile = 42)],
    ["provider id", (p) => (p.provider = "Openai-Codex\n")],
    ["verifier too short", (p) => (p.verifier = "short")],
    ["verifier with spaces", (p) => (p.verifier = `${"a".repeat(42)} b`)],
    ["redirect URI not http", (p) => (p.redirectUri = "javascript:alert(1)")],
    ["redirect URI plain http off loopback", (p) => (p.redirectUri = "http://evil.example/cb")],
    ["expiry far ahead", (p) => (p.expiresAt = Date.now() + 365 * 86_400_000)],
    ["expiry not a number", (p) => (p.expiresAt = "soon")],
    ["expiry negative", (p) => (p.expiresAt = -1)],
    ["not an object", (p) => Object.keys(p).forEach((k) => delete p[k])],
  ];
  for (const [label, change] of tamper) {
    const url = (await startLogin(state, ["--profile", "work"])).url;
    const file = pendingFile(state);
    const pending = JSON.parse(Deno.readTextFileSync(file));
    change(pending);
    Deno.writeTextFileSync(file, JSON.stringify(pending)); // keeps the 0600 mode
    const result = await state.run(["login", "--finish", await idp.approve(url)]);
    assert.equal(result.code, 65, `${label}: ${result.stderr}`);
    assert.match(result.stderr, /pending login/, label);
    assertTerminalSafe(result, label);
    assert.ok(storeMissing(state), `${label}: nothing stored`);
    assert.equal(idp.counts().authorization_code, 0, `${label}: no code exchange`);
  }
});

Deno.test("login --finish refuses a pending login that is not private (mode, link, kind, owner, directory) with exit 65 and the fix", async () => {
  await using state = await tempState();
  const idp = await idpFor(state);
  const root = Deno.uid() === 0;
  try {
    const exposures: [string, (file: string) => void, RegExp][] = [
      ["mode 0644", (f) => Deno.chmodSync(f, 0o644), /rm /],
      ["mode 0660", (f) => Deno.chmodSync(f, 0o660), /rm /],
      ["mode 0602", (f) => Deno.chmodSync(f, 0o602), /rm /],
      ["a symbolic link", (f) => {
        const elsewhere = `${state.dir}/elsewhere.json`;
        Deno.renameSync(f, elsewhere);
        Deno.symlinkSync(elsewhere, f);
      }, /symbolic link/],
      ["a directory", (f) => {
        Deno.removeSync(f);
        Deno.mkdirSync(f);
      }, /not a regular file/],
      ["a pending dir open to others", (f) => {
        Deno.chmodSync(f.replace(/\/[^/]*$/, ""), 0o777);
      }, /chmod 700/],
      ...(root
        ? [
          [
            "owned by another user",
            (f: string) => Deno.chownSync(f, 65534, 65534),
            /not by you/,
          ] as [
            string,
            (file: string) => void,
            RegExp,
          ],
        ]
        : []),
    ];
    for (const [label, expose, fix] of exposures) {
      await using fresh = await tempState();
      setProvider(
        fresh,
        "openai-codex",
        providerOverride(idp, `http://127.0.0.1:${idp.callbackPort}/auth/callback`, true),
      );
      const url = (await startLogin(fresh)).url;
      expose(pendingFile(fresh));
      const answer = await idp.approve(url);
      for (const input of [answer, new URL(answer).searchParams.get("code")!]) {
        const result = await fresh.run(["login", "--finish", input]);
        assert.equal(result.code, 65, `${label}: ${result.stderr}`);
        assert.match(result.stderr, fix, label);
        assert.ok(storeMissing(fresh), `${label}: nothing stored`);
      }
      assert.equal(idp.counts().authorization_code, 0, `${label}: no code exchange`);
    }
  } finally {
    await idp.close();
  }
});

// ---------------------------------------------------------------------------
// (14) A login answered by another account

Deno.test("login CSRF: a --profile e-mail that differs from the account that came back is refused (exit 65), in every flow", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state);
  const url = (await startLogin(state, ["--profile", "dev@example.test"])).url;
  const finished = await state.run(["login", "--finish", await idp.approve(url, "mallory")]);
  assert.equal(finished.code, 65, finished.stderr);
  assert.match(finished.stderr, /mallory@example\.test/);
  assert.match(finished.stderr, /dev@example\.test/);
  assert.ok(storeMissing(state), "nothing stored");

  const cli = startCli(state, [
    "login",
    "--provider",
    "openai-codex",
    "--profile",
    "dev@example.test",
  ]);
  const live = await cli.waitForStderr(URL_LINE);
  await cli.waitForStderr(/Waiting for the browser/);
  (await fetch(await idp.approve(live, "mallory"))).body?.cancel();
  const listened = await cli.result();
  assert.equal(listened.code, 65, listened.stderr);
  assert.match(listened.stderr, /mallory@example\.test.*dev@example\.test/);
  assert.ok(storeMissing(state), "nothing stored");

  const device = startCli(state, [
    "login",
    "--provider",
    "openai-codex",
    "--device",
    "--no-browser",
    "--profile",
    "dev@example.test",
  ]);
  const [, , userCode] = CODE_LINE.exec(
    await device.waitForStderr(/[\s\S]*Waiting for approval/),
  )!;
  await idp.approveCodexDevice(userCode, "mallory");
  const devised = await device.result();
  assert.equal(devised.code, 65, devised.stderr);
  assert.ok(storeMissing(state), "nothing stored");

  // The same address in other letter cases is the same account.
  const again = (await startLogin(state, ["--profile", "Dev@Example.TEST"])).url;
  const ok = await state.run(["login", "--finish", await idp.approve(again)]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.ok(profilesOf(state)["openai-codex:Dev@Example.TEST"]);
  // A profile name without @ is not an e-mail claim: any account may use it.
  const named = (await startLogin(state, ["--profile", "work"])).url;
  const other = await state.run(["login", "--finish", await idp.approve(named, "mallory")]);
  assert.equal(other.code, 0, other.stderr);
});
