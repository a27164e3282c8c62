/**
 * A real ssh "remote server" for tests: a network namespace (its 127.0.0.1
 * is not the test's) reached through Debian's `sshd -i` run as the
 * ProxyCommand inside it: key authentication, a temp config, no daemon
 * listening anywhere. The test process plays the laptop.
 *
 * ssh reads `~/.ssh/config` from the passwd home, not `$HOME`, so the host
 * comes with a `bin/ssh` wrapper that adds `-F <config>`: a CLI that runs
 * `ssh` from PATH then finds the test's host the way a user's ssh finds
 * theirs.
 *
 * Needs root on Linux, `ip netns`, `/usr/sbin/sshd`, `ssh` and `ssh-keygen`
 * (`.ci/run` installs openssh-server and iproute2 when they are missing);
 * elsewhere {@linkcode SSH_SKIP} says why and the tests are ignored.
 *
 * @module
 */

import { shellWord } from "../lib/login/via.ts";
import { CLI_COMMAND, cliEnv, ROOT } from "../scripts/cli_runner.ts";
import { which } from "./helpers.ts";

const SSHD = "/usr/sbin/sshd";

function runs(program: string, args: string[]): boolean {
  try {
    return new Deno.Command(program, { args, stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

function skipReason(): string | undefined {
  try {
    if (Deno.env.get("CLAWAUTH_SKIP_SSH_TEST")) return "CLAWAUTH_SKIP_SSH_TEST is set";
    if (Deno.build.os !== "linux") return "not Linux";
    if (Deno.uid() !== 0) return "not root (network namespaces need it)";
    try {
      Deno.statSync(SSHD);
    } catch {
      return `no ${SSHD} (apt-get install openssh-server)`;
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

/** Why the ssh tests cannot run here, or undefined when they can. */
export const SSH_SKIP: string | undefined = skipReason();
if (SSH_SKIP) console.error(`ssh tests are skipped: ${SSH_SKIP}.`);

/** Runs a program to completion; its stdout, or an error with its stderr. */
export async function must(program: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(program, { args, stdin: "null" }).output();
  if (!out.success) {
    throw new Error(
      `${program} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return new TextDecoder().decode(out.stdout);
}

/**
 * A shell command that runs the CLI as the binary would (cwd, permissions,
 * a clean environment of `env`), followed by `args`; a script adds "$@".
 */
export function cliShellCommand(env: Record<string, string>, args: string[] = []): string {
  const words = [
    ...Object.entries(cliEnv(env)).map(([k, v]) => `${k}=${v}`),
    ...CLI_COMMAND,
    ...args,
  ];
  return `cd ${shellWord(ROOT)} && exec env ${words.map(shellWord).join(" ")}`;
}

/** A running test ssh host. */
export interface SshHost extends AsyncDisposable {
  /** The Host alias in the config: `server`. */
  name: string;
  /** A private temp dir (keys, config, logs; free for the test's own files). */
  tmp: string;
  /** The ssh client config. */
  config: string;
  /** A dir with an `ssh` that uses the config; put it first on PATH. */
  binDir: string;
  /** PATH and HOME for running ssh. */
  env: Record<string, string>;
  /** Fetches `url` from inside the host (a fresh Deno there); returns "STATUS BODY". */
  fetchInside(url: string): Promise<string>;
  /** Starts a program inside the host (its network), stdout piped; ended with the host. */
  spawnInside(program: string, args: string[]): Deno.ChildProcess;
  /** sshd's log, for failure messages. */
  log(): string;
}

/**
 * Starts the host. `remoteForwards` are loopback ports of the laptop made
 * reachable on the host at the same number (e.g. the sandbox IdP, which on a
 * real server would be on the internet).
 */
export async function startSshHost(
  opts: { remoteForwards?: number[] } = {},
): Promise<SshHost> {
  const ip = which("ip")!;
  const ns = `clawauth-ssh-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const tmp = await Deno.makeTempDir({ prefix: "clawauth-ssh-" });
  let nsMade = false;
  let privsepMade = false;
  const cleanup = async () => {
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
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  };
  try {
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
    Deno.mkdirSync(`${tmp}/bin`);
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
    const config = `${tmp}/ssh_config`;
    Deno.writeTextFileSync(
      config,
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
        ...(opts.remoteForwards ?? []).map((port) => `  RemoteForward ${port} 127.0.0.1:${port}`),
        "",
      ].join("\n"),
    );
    const ssh = which("ssh")!;
    Deno.writeTextFileSync(
      `${tmp}/bin/ssh`,
      `#!/bin/sh\nexec ${shellWord(ssh)} -F ${shellWord(config)} "$@"\n`,
      { mode: 0o755 },
    );
    const path = Deno.env.get("PATH") ?? "/usr/bin:/bin";
    return {
      name: "server",
      tmp,
      config,
      binDir: `${tmp}/bin`,
      env: { PATH: path, HOME: `${tmp}/home` },
      async fetchInside(url) {
        const code = `const r = await fetch(${JSON.stringify(url)});` +
          `console.log(r.status, await r.text());`;
        return (await must(ip, ["netns", "exec", ns, Deno.execPath(), "eval", "--quiet", code]))
          .trim();
      },
      spawnInside: (program, args) =>
        new Deno.Command(ip, {
          args: ["netns", "exec", ns, program, ...args],
          stdin: "null",
          stdout: "piped",
        }).spawn(),
      log() {
        try {
          return Deno.readTextFileSync(`${tmp}/sshd.log`);
        } catch {
          return "(no sshd log)";
        }
      },
      [Symbol.asyncDispose]: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
