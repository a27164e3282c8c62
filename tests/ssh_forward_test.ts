/**
 * SPEC §3's remote-server story, end to end with a real ssh: "a user on a
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
 * Skipped unless root on Linux with `ip netns`, `/usr/sbin/sshd`, `ssh` and
 * `ssh-keygen` (CI without openssh-server stays green), or when
 * `CLAWAUTH_SKIP_SSH_TEST` is set.
 *
 * @module
 */

import assert from "node:assert/strict";
import { CLI_COMMAND, ROOT, tempState } from "./helpers.ts";
import { idpFor, profilesOf } from "./oauth_helpers.ts";
import { cliEnv } from "../scripts/cli_runner.ts";

const SSHD = "/usr/sbin/sshd";
const URL_LINE = /\n {2}(http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?\S+)\n/;
/** Bound on each wait for the remote CLI, so a failure never hangs the run. */
const WAIT_MS = 20_000;

/** The absolute path of `name` on PATH, if any. */
function which(name: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (dir && Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
    } catch { /* not here */ }
  }
  return undefined;
}

function runs(program: string, args: string[]): boolean {
  try {
    return new Deno.Command(program, { args, stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** Why the test cannot run here, or undefined when it can. */
function skipReason(): string | undefined {
  try {
    if (Deno.env.get("CLAWAUTH_SKIP_SSH_TEST")) return "CLAWAUTH_SKIP_SSH_TEST is set";
    if (Deno.build.os !== "linux") return "not Linux";
    if (Deno.uid() !== 0) return "not root";
    try {
      Deno.statSync(SSHD);
    } catch {
      return `no ${SSHD}`;
    }
    const ip = which("ip");
    if (!ip || !which("ssh") || !which("ssh-keygen")) return "no ip, ssh or ssh-keygen";
    const probe = `clawauth-probe-${Deno.pid}`;
    if (!runs(ip, ["netns", "add", probe])) return "ip netns add does not work";
    runs(ip, ["netns", "del", probe]);
    return undefined;
  } catch (error) {
    return String(error);
  }
}

const SKIP = skipReason();

/** Quotes one word for the remote POSIX shell. */
function shQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

async function must(program: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(program, { args, stdin: "null" }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(
      `${program} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return text;
}

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

/** Fetches `url` from inside the namespace (a fresh Deno there); returns "STATUS BODY". */
async function fetchInside(ip: string, ns: string, url: string): Promise<string> {
  const code = `const r = await fetch(${JSON.stringify(url)});` +
    `console.log(r.status, await r.text());`;
  return (await must(ip, ["netns", "exec", ns, Deno.execPath(), "eval", "--quiet", code])).trim();
}

Deno.test({
  name: "login over ssh: the laptop's browser reaches the server's listener only through ssh -L",
  ignore: SKIP !== undefined,
  async fn() {
    const ip = which("ip")!;
    const ns = `clawauth-ssh-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
    await using state = await tempState();
    const idp = await idpFor(state);
    const port = idp.callbackPort;
    const idpPort = new URL(idp.issuer).port;
    let tmp: string | undefined;
    let session: Session | undefined;
    let nsMade = false;
    let privsepMade = false;
    try {
      tmp = await Deno.makeTempDir({ prefix: "clawauth-ssh-" });
      // sshd insists on its privilege-separation dir, which only the (unused) service creates.
      try {
        Deno.statSync("/run/sshd");
      } catch {
        Deno.mkdirSync("/run/sshd", { mode: 0o755 });
        privsepMade = true;
      }
      await must(ip, ["netns", "add", ns]);
      nsMade = true;
      await must(ip, ["netns", "exec", ns, ip, "link", "set", "lo", "up"]);

      await must("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", `${tmp}/host_key`]);
      await must("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", `${tmp}/user_key`]);
      Deno.copyFileSync(`${tmp}/user_key.pub`, `${tmp}/authorized_keys`);
      Deno.mkdirSync(`${tmp}/home`);
      Deno.writeTextFileSync(
        `${tmp}/sshd_config`,
        [
          `HostKey ${tmp}/host_key`,
          `AuthorizedKeysFile ${tmp}/authorized_keys`,
          "PermitRootLogin prohibit-password",
          "PubkeyAuthentication yes",
          "PasswordAuthentication no",
          "KbdInteractiveAuthentication no",
          "UsePAM no",
          "StrictModes no",
          "AllowTcpForwarding yes",
          "PermitUserRC no",
          "PidFile none",
          "",
        ].join("\n"),
      );
      const user = (await must("id", ["-un"])).trim();
      Deno.writeTextFileSync(
        `${tmp}/ssh_config`,
        [
          "Host server",
          "  HostName server",
          `  User ${user}`,
          `  IdentityFile ${tmp}/user_key`,
          "  IdentitiesOnly yes",
          `  ProxyCommand ${ip} netns exec ${ns} ${SSHD} -i -f ${tmp}/sshd_config -E ${tmp}/sshd.log`,
          "  StrictHostKeyChecking no",
          "  UserKnownHostsFile /dev/null",
          "  BatchMode yes",
          "  LogLevel ERROR",
          "  ExitOnForwardFailure yes",
          `  ControlPath ${tmp}/ctl`,
          "",
        ].join("\n"),
      );
      const sshEnv = { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", HOME: `${tmp}/home` };
      const sshLog = () => {
        try {
          return Deno.readTextFileSync(`${tmp}/sshd.log`);
        } catch {
          return "(no sshd log)";
        }
      };

      // On the server, in the ssh session: clawauth login, with a state dir and HOME of its own.
      const remoteEnv = cliEnv({ HOME: `${tmp}/home`, OPENCLAW_STATE_DIR: state.dir });
      const remoteCommand = `cd ${shQuote(ROOT)} && exec env ` +
        [
          ...Object.entries(remoteEnv).map(([k, v]) => `${k}=${v}`),
          ...CLI_COMMAND,
          "login",
          "--provider",
          "openai-codex",
          "--json",
        ].map(shQuote).join(" ");
      session = startSession("ssh", [
        "-F",
        `${tmp}/ssh_config`,
        "-M",
        "-R",
        `${idpPort}:127.0.0.1:${idpPort}`,
        "server",
        remoteCommand,
      ], sshEnv);

      const url = await session.waitForStderr(URL_LINE);
      const hint = await session.waitForStderr(/Forward the port first: (ssh -L \S+)/);
      assert.equal(hint, `ssh -L ${port}:127.0.0.1:${port}`);
      await session.waitForStderr(/Waiting for the browser/);

      // The laptop's browser signs in at the IdP (directly, on the laptop's loopback).
      const callback = await idp.approve(url);
      assert.ok(callback.startsWith(`http://127.0.0.1:${port}/auth/callback?`), callback);

      // The listener is up, but only in the server's namespace.
      assert.match(
        await fetchInside(ip, ns, `http://127.0.0.1:${port}/`),
        /^404 .*This is clawauth&#39;s login listener/,
      );
      await assert.rejects(fetch(callback), TypeError, "reached without a tunnel");

      // The laptop adds the forward to the running session: ssh -L PORT:127.0.0.1:PORT.
      await must("ssh", [
        "-F",
        `${tmp}/ssh_config`,
        "-O",
        "forward",
        "-L",
        `${port}:127.0.0.1:${port}`,
        "server",
      ]);
      const page = await fetch(callback);
      assert.equal(page.status, 200, sshLog());
      assert.equal(page.headers.get("content-security-policy"), "default-src 'none'");
      assert.match(await page.text(), /Signed in/);

      const result = await session.result();
      assert.equal(result.code, 0, `${result.stderr}\n${sshLog()}`);
      const printed = JSON.parse(result.stdout);
      assert.equal(printed.profile, "openai-codex:dev@example.test");
      const profile = profilesOf(state)["openai-codex:dev@example.test"];
      assert.equal(profile.type, "oauth");
      assert.equal(profile.accountId, "acct-sandbox-1");
      assert.ok(profile.refresh && profile.access && Number(profile.expires) > Date.now());
      // The code was exchanged once, by the server, through the -R tunnel.
      assert.equal(idp.counts().authorization_code, 1);
      // Headless in an SSH session: no browser was started there, only the URL printed.
      assert.doesNotMatch(result.stderr, /Opened your browser/);
    } finally {
      await session?.kill();
      if (nsMade) {
        // Whatever still runs in the namespace was started by this test (sshd -i, the CLI).
        const pids = await must(ip, ["netns", "pids", ns]).catch(() => "");
        for (const pid of pids.split(/\s+/).filter(Boolean)) {
          try {
            Deno.kill(Number(pid), "SIGKILL");
          } catch { /* gone */ }
        }
        await must(ip, ["netns", "del", ns]).catch(() => {});
      }
      if (privsepMade) await Deno.remove("/run/sshd").catch(() => {});
      await idp.close();
      if (tmp) await Deno.remove(tmp, { recursive: true });
    }
  },
});
