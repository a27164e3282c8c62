/**
 * `login --via HOST`, run on the laptop: the remote login runs over a real
 * ssh (tests/ssh_host.ts: sshd in a network namespace, so the server's
 * 127.0.0.1 is its own), the laptop's `$BROWSER` gets the URL the server
 * printed, and the browser's redirect reaches the server's listener only
 * through the tunnel that `--via` opened.
 */

import assert from "node:assert/strict";
import { shellWord } from "../../lib/login/via.ts";
import { type TempState, tempState } from "../helpers.ts";
import { freePort, idpFor, profilesOf, startCli } from "../oauth_helpers.ts";
import { cliShellCommand, SSH_SKIP, type SshHost, startSshHost } from "../ssh_host.ts";

/** A `clawauth` on the server: the CLI as the binary runs, with the server's own state dir. */
function remoteBin(host: SshHost, server: TempState, name: string): string {
  const path = `${host.tmp}/${name}`;
  const command = cliShellCommand({ HOME: host.env.HOME, OPENCLAW_STATE_DIR: server.dir });
  Deno.writeTextFileSync(path, `#!/bin/sh\n${command} "$@"\n`, { mode: 0o755 });
  return path;
}

/** The laptop's `$BROWSER`: hands the URL to `open` in this test, like a click. */
function laptopBrowser(dir: string, open: (url: string) => Promise<void>) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    await open(await req.text());
    return new Response("opened");
  });
  const script = `${dir}/browser`;
  const post = `await fetch("http://127.0.0.1:${server.addr.port}/", ` +
    `{ method: "POST", body: Deno.args[0] }).then((r) => r.text())`;
  Deno.writeTextFileSync(
    script,
    `#!/bin/sh\nexec ${shellWord(Deno.execPath())} eval --quiet ${shellWord(post)} "$1"\n`,
    { mode: 0o755 },
  );
  return { script, close: () => server.shutdown() };
}

/**
 * A laptop and a server with their own state dirs and the same provider
 * settings, the IdP on the laptop (reachable from the server through a
 * reverse forward, as the internet would be), the ssh host, and the laptop's
 * browser; `login(extra)` starts `login --via server` on the laptop.
 */
async function tunnelWorld(open: (url: string) => Promise<void>) {
  const laptop = await tempState();
  const server = await tempState();
  const idp = await idpFor(laptop);
  Deno.mkdirSync(server.dir, { recursive: true });
  Deno.copyFileSync(`${laptop.dir}/clawauth.json`, `${server.dir}/clawauth.json`);
  const host = await startSshHost({ remoteForwards: [Number(new URL(idp.issuer).port)] });
  const browser = laptopBrowser(host.tmp, open);
  const bin = remoteBin(host, server, "clawauth");
  return {
    laptop,
    server,
    idp,
    host,
    port: idp.callbackPort,
    login: (extra: string[] = []) =>
      startCli(
        laptop,
        ["login", "--provider", "openai-codex", "--via", host.name, "--remote-bin", bin, ...extra],
        { PATH: `${host.binDir}:${host.env.PATH}`, BROWSER: browser.script },
      ),
    async [Symbol.asyncDispose]() {
      await browser.close();
      await host[Symbol.asyncDispose]();
      await idp.close();
      await server[Symbol.asyncDispose]();
      await laptop[Symbol.asyncDispose]();
    },
  };
}

Deno.test({
  name:
    "login --via: the laptop opens the server's URL, the redirect travels the tunnel, the server stores the login",
  ignore: SSH_SKIP !== undefined,
  async fn() {
    const opened: string[] = [];
    const pages: { status: number; body: string }[] = [];
    await using world = await tunnelWorld(async (url) => {
      opened.push(url);
      // Without the tunnel the server's listener is out of reach from here.
      const page = await fetch(await world.idp.approve(url));
      pages.push({ status: page.status, body: await page.text() });
    });
    const { laptop, server, idp, host, port } = world;
    const cli = world.login(["--json"]);
    const result = await cli.result();
    assert.equal(result.code, 0, `${result.stderr}\n${host.log()}`);

    // What the server printed came through: its URL, then the laptop's note.
    assert.equal(opened.length, 1);
    assert.ok(result.stderr.includes(`\n  ${opened[0]}\n`), result.stderr);
    assert.match(
      result.stderr,
      new RegExp(
        `opened your browser here; the sign-in returns to server through ssh \\(port ${port}\\)`,
      ),
    );
    // The server knew its port was forwarded: no ssh -L advice.
    assert.doesNotMatch(result.stderr, /ssh -L/);
    assert.doesNotMatch(result.stderr, /clawauth-via:/, "the machine line is not shown");
    assert.equal(pages[0].status, 200);
    assert.match(pages[0].body, /Signed in/);

    // The server's output (the --json line) passed through; the server stored the login.
    assert.equal(JSON.parse(result.stdout).profile, "openai-codex:dev@example.test");
    const profile = profilesOf(server)["openai-codex:dev@example.test"];
    assert.equal(profile.accountId, "acct-sandbox-1");
    assert.ok(profile.refresh && profile.access);
    assert.throws(
      () => laptop.storeText(),
      Deno.errors.NotFound,
      "nothing is stored on the laptop",
    );
    assert.equal(idp.counts().authorization_code, 1);
    // The tunnel closed with the session: the laptop's port is free again.
    Deno.listen({ hostname: "127.0.0.1", port }).close();
  },
});

Deno.test({
  name:
    "login --via: when the server's port is taken, no browser opens here and a paste on the laptop finishes",
  ignore: SSH_SKIP !== undefined,
  async fn() {
    const opened: string[] = [];
    await using world = await tunnelWorld((url) => {
      opened.push(url);
      return Promise.resolve();
    });
    const { server, idp, host, port } = world;
    // Something else on the server holds the callback port.
    const squatter = host.spawnInside(Deno.execPath(), [
      "eval",
      `const l = Deno.listen({ hostname: "127.0.0.1", port: ${port} }); console.log("ready");` +
      "for await (const c of l) c.close();",
    ]);
    try {
      const ready = squatter.stdout.pipeThrough(new TextDecoderStream()).getReader();
      assert.match((await ready.read()).value ?? "", /ready/);
      const cli = world.login();
      await cli.waitForStderr(/server cannot listen on port \d+, so no browser was opened here/);
      const url = await cli.waitForStderr(
        /\n {2}(http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?\S+)\n/,
      );
      // Typed on the laptop, carried by ssh to the server's login.
      await cli.write(`${await idp.approve(url)}\n`);
      const result = await cli.result();
      assert.equal(result.code, 0, result.stderr);
      assert.equal(opened.length, 0, "the browser was opened towards a foreign listener");
      assert.ok(profilesOf(server)["openai-codex:dev@example.test"]);
      ready.releaseLock();
    } finally {
      squatter.kill();
      await squatter.status;
    }
  },
});

Deno.test({
  name:
    "login --via: the remote exit code and message pass through; a missing remote clawauth and an ssh failure are named",
  ignore: SSH_SKIP !== undefined,
  async fn() {
    await using laptop = await tempState();
    await using server = await tempState();
    await using host = await startSshHost();
    // A free port of its own, so nothing else on this machine (a Codex CLI on 1455) interferes.
    laptop.writeFile(
      "clawauth.json",
      JSON.stringify({
        providers: {
          "openai-codex": { redirectUri: `http://127.0.0.1:${freePort()}/auth/callback` },
        },
      }),
    );
    const env = { PATH: `${host.binDir}:${host.env.PATH}`, BROWSER: "/bin/false" };
    const via = (bin: string, target = host.name) =>
      laptop.run(
        ["login", "--provider", "openai-codex", "--via", target, "--remote-bin", bin],
        { env },
      );

    // The server's clawauth.json is broken: its login exits 65, and so does --via.
    server.writeFile("clawauth.json", "{ not json");
    const broken = await via(remoteBin(host, server, "clawauth"));
    assert.equal(broken.code, 65, broken.stderr);
    assert.match(broken.stderr, /The config .*clawauth\.json is not usable/);

    const missing = await via(`${host.tmp}/no-such-clawauth`);
    assert.equal(missing.code, 1, missing.stderr);
    assert.match(missing.stderr, /no-such-clawauth was not found on server/);
    assert.match(missing.stderr, /--remote-bin PATH/);

    // A host ssh cannot reach (its ProxyCommand fails at once): ssh's exit 255 becomes 69.
    Deno.writeTextFileSync(host.config, "\nHost broken\n  ProxyCommand false\n", { append: true });
    const unreachable = await via("clawauth", "broken");
    assert.equal(unreachable.code, 69, unreachable.stderr);
    assert.match(unreachable.stderr, /ssh to broken failed \(exit 255\)/);
  },
});

Deno.test("login --via: a busy local port names its holder, a missing ssh is exit 69, bad destinations and flag mixes are usage errors", async () => {
  await using laptop = await tempState();
  const idp = await idpFor(laptop);
  const holder = Deno.listen({ hostname: "127.0.0.1", port: idp.callbackPort });
  try {
    const busy = await laptop.run(["login", "--provider", "openai-codex", "--via", "server"], {
      // An ssh that must never run: the port check comes first.
      env: { PATH: "/nonexistent" },
    });
    assert.equal(busy.code, 1, busy.stderr);
    assert.match(busy.stderr, new RegExp(`Port ${idp.callbackPort} on this machine is in use by`));
    assert.match(busy.stderr, /--port N/);
    holder.close();

    const noSsh = await laptop.run(["login", "--provider", "openai-codex", "--via", "server"], {
      env: { PATH: "/nonexistent" },
    });
    assert.equal(noSsh.code, 69, noSsh.stderr);
    assert.match(noSsh.stderr, /ssh is not installed here/);

    for (
      const args of [
        ["--via", "-oProxyCommand=touch /tmp/pwned"],
        ["--via", "host name"],
        ["--via", "server", "--device"],
        ["--via", "server", "--start"],
        ["--remote-bin", "/opt/clawauth"],
      ]
    ) {
      const result = await laptop.run(["login", "--provider", "openai-codex", ...args]);
      assert.equal(result.code, 64, `${args.join(" ")}: ${result.stderr}`);
    }
  } finally {
    try {
      holder.close();
    } catch { /* closed above */ }
    await idp.close();
  }
});
