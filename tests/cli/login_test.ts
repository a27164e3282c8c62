import assert from "node:assert/strict";
import { tempState, which } from "../helpers.ts";
import {
  idpFor,
  interactiveLogin,
  profilesOf,
  startCli,
  startLogin,
  URL_LINE,
} from "../oauth_helpers.ts";

const hasSs = Deno.build.os === "linux" && which("ss") !== undefined;

Deno.test("login: the browser's redirect to the loopback listener stores the OAuth profile", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state);
  const { cli, url } = await interactiveLogin(state, ["--json"]);
  await cli.waitForStderr(/Waiting for the browser/);
  const callback = await idp.approve(url);
  const page = await fetch(callback);
  assert.equal(page.status, 200);
  assert.equal(
    page.headers.get("content-security-policy"),
    "default-src 'none'",
  );
  await page.body?.cancel();
  const result = await cli.result();
  assert.equal(result.code, 0, result.stderr);
  const printed = JSON.parse(result.stdout);
  assert.equal(printed.profile, "openai-codex:dev@example.test");
  assert.equal(printed.accountId, "acct-sandbox-1");
  const profile = profilesOf(state)["openai-codex:dev@example.test"];
  assert.equal(profile.type, "oauth");
  assert.equal(profile.accountId, "acct-sandbox-1");
  assert.ok(
    profile.refresh && profile.access && Number(profile.expires) > Date.now(),
  );
  assert.equal(idp.counts().authorization_code, 1);
});

Deno.test("login: a pasted redirect URL completes the login when the browser is elsewhere", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state);
  const { cli, url } = await interactiveLogin(state, ["--profile", "work", "--no-browser"]);
  const callback = await idp.approve(url);
  await cli.write("not a code at all\n");
  await cli.waitForStderr(/Paste it again/);
  await cli.write(`${callback}\n`);
  const result = await cli.result();
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /stored openai-codex:work/);
  assert.ok(profilesOf(state)["openai-codex:work"].refresh);
});

Deno.test("login: when the callback port is taken, it says so, hints ssh -L, and accepts a paste", async () => {
  await using state = await tempState();
  const idp = await idpFor(state);
  const blocker = Deno.listen({
    hostname: "127.0.0.1",
    port: idp.callbackPort,
  });
  try {
    const cli = startCli(state, ["login", "--provider", "openai-codex"]);
    await cli.waitForStderr(
      new RegExp(
        `ssh -L ${idp.callbackPort}:127\\.0\\.0\\.1:${idp.callbackPort}`,
      ),
    );
    if (hasSs) {
      // The holder is named (through iproute2's ss): this test process holds the port.
      await cli.waitForStderr(new RegExp(`is in use by deno \\(pid ${Deno.pid}\\)`));
    }
    const url = await cli.waitForStderr(URL_LINE);
    await cli.write(`${await idp.approve(url)}\n`);
    const result = await cli.result();
    assert.equal(result.code, 0, result.stderr);
  } finally {
    blocker.close();
    await idp.close();
  }
});

Deno.test("login --start/--finish: two steps, single use, wrong state refused", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state);
  const { url, state: oauthState, redirectUri, expiresAt } = await startLogin(state);
  assert.equal(
    redirectUri,
    `http://127.0.0.1:${idp.callbackPort}/auth/callback`,
  );
  assert.ok(
    expiresAt > Date.now() + 14 * 60_000 &&
      expiresAt <= Date.now() + 15 * 60_000,
  );
  assert.equal(new URL(url).searchParams.get("state"), oauthState);
  assert.equal(
    new URL(url).searchParams.get("code_challenge_method"),
    "S256",
  );
  const pending = [...Deno.readDirSync(`${state.agentDir()}/pending`)];
  assert.equal(pending.length, 1);
  assert.equal(
    Deno.statSync(`${state.agentDir()}/pending/${pending[0].name}`).mode! &
      0o777,
    0o600,
  );
  assert.ok(
    !Deno.readTextFileSync(`${state.agentDir()}/pending/${pending[0].name}`)
      .includes(url),
  );

  const callback = await idp.approve(url);
  const forged = new URL(callback);
  forged.searchParams.set("state", "x".repeat(43));
  const wrong = await state.run(["login", "--finish", forged.href]);
  assert.equal(wrong.code, 65);

  const finished = await state.run(["login", "--finish", "-"], {
    stdin: `${callback}\n`,
  });
  assert.equal(finished.code, 0, finished.stderr);
  assert.ok(profilesOf(state)["openai-codex:dev@example.test"]);
  const again = await state.run(["login", "--finish", callback]);
  assert.equal(again.code, 65);
  assert.match(again.stderr, /already used/);
});

Deno.test("login: a bare code pasted alone completes the login", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state);
  const { cli, url } = await interactiveLogin(state, ["--no-browser", "--profile", "bare"]);
  const code = new URL(await idp.approve(url)).searchParams.get("code");
  await cli.write(`${code}\n`);
  const result = await cli.result();
  assert.equal(result.code, 0, result.stderr);
  assert.ok(profilesOf(state)["openai-codex:bare"].refresh);
});

Deno.test("login: an error=access_denied callback ends the login with the provider's message, escaped, and stores nothing", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state);
  const { cli, url: href } = await interactiveLogin(state);
  const url = new URL(href);
  await cli.waitForStderr(/Waiting for the browser/);
  const hostile = '<script>alert("x")</script>\u001b[31mred';
  const callback = new URL(`http://127.0.0.1:${idp.callbackPort}/auth/callback`);
  callback.searchParams.set("error", "access_denied");
  callback.searchParams.set("error_description", hostile);
  callback.searchParams.set("state", url.searchParams.get("state")!);
  const page = await fetch(callback);
  const html = await page.text();
  assert.equal(page.headers.get("content-security-policy"), "default-src 'none'");
  assert.ok(!html.includes("<script>"), html);
  assert.match(html, /&#60;script&#62;/);
  const result = await cli.result();
  assert.equal(result.code, 1);
  assert.match(result.stderr, /access_denied/);
  assert.ok(!result.stderr.includes("\u001b"), "no terminal escapes reach stderr");
  assert.throws(() => state.store(), "nothing stored");
});

Deno.test("login: the listener answers only its path, and a wrong state on the callback gets 400 while the login keeps waiting", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state);
  const cli = startCli(state, ["login", "--provider", "openai-codex"]);
  await cli.waitForStderr(/Waiting for the browser/);
  const other = await fetch(`http://127.0.0.1:${idp.callbackPort}/elsewhere?code=x&state=y`);
  assert.equal(other.status, 404);
  await other.body?.cancel();
  const wrong = await fetch(
    `http://127.0.0.1:${idp.callbackPort}/auth/callback?code=x&state=forged`,
  );
  assert.equal(wrong.status, 400);
  await wrong.body?.cancel();
  // Still waiting: a stray request cannot end the login; Ctrl-C does.
  await cli.waitForStderr(/still waiting/);
  cli.kill("SIGINT");
  const result = await cli.result();
  assert.equal(result.code, 130, result.stderr);
  assert.throws(() => state.store(), "nothing stored");
});

Deno.test("login waiting: the other ways to finish are listed, over SSH with the ssh -L and --via lines", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state);
  const cli = startCli(state, ["login", "--provider", "openai-codex"], {
    SSH_CONNECTION: "10.0.0.2 50000 10.0.0.1 22",
  });
  const ways = await cli.waitForStderr(
    /Other ways to finish:\n([\s\S]*?)Waiting for the browser/,
  );
  const port = idp.callbackPort;
  assert.match(ways, /paste +the address the browser ends on/);
  assert.match(ways, /--device +clawauth login --provider openai-codex --device/);
  assert.match(
    ways,
    new RegExp(
      `ssh -L +on the machine with the browser: ssh -L ${port}:127\\.0\\.0\\.1:${port} <this-host>`,
    ),
  );
  assert.match(ways, /clawauth login --provider openai-codex --via <this-host>/);
  const url = await cli.waitForStderr(URL_LINE);
  await cli.write(`${await idp.approve(url)}\n`);
  const result = await cli.result();
  assert.equal(result.code, 0, result.stderr);
  assert.ok(!result.stderr.includes("\x1b["), "no terminal control codes when stderr is a pipe");
});
