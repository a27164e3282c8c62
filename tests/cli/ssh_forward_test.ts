/**
 * The remote-server story of docs/login.md#log-in-on-a-remote-server, end to end with a real ssh: "a user on a
 * remote server with no browser completes the login by SSH port forwarding".
 *
 * The "server" is a network namespace, so its 127.0.0.1 is not the test's.
 * ssh reaches it through `sshd -i` run as the ProxyCommand inside that
 * namespace (no daemon, nothing listens), with a throwaway host key and user
 * key. The test process plays the laptop: it runs ssh, plays the browser
 * (the sandbox IdP's `approve`), and fetches the callback URL.
 *
 * Design (the simplest honest one): `clawauth login` runs as the remote
 * command of the ssh session itself, exactly as the user would type it on
 * the server, so it sees the session's environment (`SSH_CONNECTION`, no
 * display) and runs in the namespace. The sandbox IdP lives on the laptop's
 * loopback, which the namespace cannot reach; on a real server the token
 * endpoint is on the internet, so the session also carries
 * `-R IDP:127.0.0.1:IDP`, making the same `http://127.0.0.1:IDP` URLs work
 * from the server. The browser's part (authorize) stays on the laptop.
 * The session is an ssh ControlMaster, so the laptop's `-L PORT:127.0.0.1:PORT`
 * can be added later with `ssh -O forward` (what `~C -L …` does by hand):
 * first the test shows the waiting listener exists only in the namespace
 * (reachable from inside, a refused connection from the laptop), then opens
 * the tunnel and lets the browser's redirect travel through it.
 * `ssh -O forward` returns once the master has bound the local port, so no
 * polling is needed.
 *
 * The host is tests/ssh_host.ts (skipped, with the reason printed, where it
 * cannot run).
 *
 * @module
 */

import assert from "node:assert/strict";
import { tempState } from "../helpers.ts";
import { idpFor, profilesOf, URL_LINE } from "../oauth_helpers.ts";
import { cliShellCommand, must, SSH_SKIP, startSshHost } from "../ssh_host.ts";

/** Bound on each wait for the remote CLI, so a failure never hangs the run. */
const WAIT_MS = 20_000;

/** The ssh session: its stderr can be awaited (bounded), its exit awaited, or it can be ended. */
interface Session {
  waitForStderr(pattern: RegExp): Promise<string>;
  result(): Promise<{ code: number; stdout: string; stderr: string }>;
  kill(): Promise<void>;
}

function startSession(program: string, args: string[], env: Record<string, string>): Session {
  const child = new Deno.Command(program, {
    args,
    clearEnv: true,
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Stdin stays open (as a terminal would) until result(): the CLI also reads pasted answers.
  const writer = child.stdin.getWriter();
  let stderr = "";
  let exited = false;
  const listeners = new Set<() => void>();
  const stderrDone = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      stderr += chunk;
      for (const listener of listeners) listener();
    }
  })();
  const stdout = new Response(child.stdout).text();
  const status = child.status.then((s) => {
    exited = true;
    for (const listener of listeners) listener();
    return s;
  });
  return {
    waitForStderr: (pattern) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => done(new Error("timed out")), WAIT_MS);
        const done = (error?: Error, value?: string) => {
          clearTimeout(timer);
          listeners.delete(check);
          if (error) {
            reject(new Error(`${error.message} waiting for ${pattern}; stderr:\n${stderr}`));
          } else resolve(value!);
        };
        const check = () => {
          const match = pattern.exec(stderr);
          if (match) done(undefined, match[1] ?? match[0]);
          else if (exited) done(new Error("ssh exited"));
        };
        listeners.add(check);
        check();
      }),
    async result() {
      await writer.close().catch(() => {});
      const [s, out] = await Promise.all([status, stdout, stderrDone]);
      return { code: s.code, stdout: out, stderr };
    },
    async kill() {
      if (!exited) {
        try {
          child.kill("SIGTERM");
        } catch { /* already gone */ }
      }
      await writer.close().catch(() => {});
      await Promise.allSettled([status, stdout, stderrDone]);
    },
  };
}

Deno.test({
  name: "login over ssh: the laptop's browser reaches the server's listener only through ssh -L",
  ignore: SSH_SKIP !== undefined,
  async fn() {
    await using state = await tempState();
    const idp = await idpFor(state);
    const port = idp.callbackPort;
    let session: Session | undefined;
    try {
      await using host = await startSshHost({ remoteForwards: [Number(new URL(idp.issuer).port)] });
      try {
        // On the server, in the ssh session: clawauth login, with a state dir and HOME of its own.
        const remoteCommand = cliShellCommand(
          { HOME: host.env.HOME, OPENCLAW_STATE_DIR: state.dir },
          ["login", "--provider", "openai-codex", "--json"],
        );
        session = startSession(
          "ssh",
          ["-F", host.config, "-M", host.name, remoteCommand],
          host.env,
        );

        const url = await session.waitForStderr(URL_LINE);
        const hint = await session.waitForStderr(/on the machine with the browser: (ssh -L \S+)/);
        assert.equal(hint, `ssh -L ${port}:127.0.0.1:${port}`);
        await session.waitForStderr(/Waiting for the browser/);

        // The laptop's browser signs in at the IdP (directly, on the laptop's loopback).
        const callback = await idp.approve(url);
        assert.ok(callback.startsWith(`http://127.0.0.1:${port}/auth/callback?`), callback);

        // The listener is up, but only in the server's namespace.
        assert.match(
          await host.fetchInside(`http://127.0.0.1:${port}/`),
          /^404 .*This is clawauth&#39;s login listener/,
        );
        await assert.rejects(fetch(callback), TypeError, "reached without a tunnel");

        // The laptop adds the forward to the running session: ssh -L PORT:127.0.0.1:PORT.
        await must("ssh", [
          "-F",
          host.config,
          "-O",
          "forward",
          "-L",
          `${port}:127.0.0.1:${port}`,
          host.name,
        ]);
        const page = await fetch(callback);
        assert.equal(page.status, 200, host.log());
        assert.equal(page.headers.get("content-security-policy"), "default-src 'none'");
        assert.match(await page.text(), /Signed in/);

        const result = await session.result();
        assert.equal(result.code, 0, `${result.stderr}\n${host.log()}`);
        const printed = JSON.parse(result.stdout);
        assert.equal(printed.profile, "openai-codex:dev@example.test");
        const profile = profilesOf(state)["openai-codex:dev@example.test"];
        assert.equal(profile.type, "oauth");
        assert.equal(profile.accountId, "acct-sandbox-1");
        assert.ok(profile.refresh && profile.access && Number(profile.expires) > Date.now());
        // The code was exchanged once, by the server, through the reverse tunnel.
        assert.equal(idp.counts().authorization_code, 1);
        // Headless in an SSH session: no browser was started there, only the URL printed.
        assert.doesNotMatch(result.stderr, /Opened your browser/);
      } finally {
        await session?.kill();
      }
    } finally {
      await idp.close();
    }
  },
});
