/**
 * The network side of the real refresh race (tests/cli/openclaw_race_test.ts):
 * a network namespace of its own whose hosts file sends auth.openai.com and
 * chatgpt.com to 198.18.0.1, with scripts/refresh_race_net.ts (the sandbox
 * IdP behind a TLS front) running inside it and answering this process over
 * stdin/stdout; and when the race can run at all.
 *
 * @module
 */

import { ROOT } from "../scripts/cli_runner.ts";
import {
  FRONT_ADDRESS,
  FRONT_NAMES,
  type TokenRequest,
  type UsageRequest,
} from "../scripts/refresh_race_net.ts";
import { which } from "./helpers.ts";
import { openclawAvailable, skipReason as openclawSkipReason } from "./openclaw_env.ts";

// --- when it can run -----------------------------------------------------------

function runs(program: string, args: string[]): boolean {
  try {
    return new Deno.Command(program, { args, stdout: "null", stderr: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
}

function raceSkipReason(): string | undefined {
  if (Deno.env.get("CLAWAUTH_SKIP_RACE_TEST")) return "CLAWAUTH_SKIP_RACE_TEST is set";
  if (Deno.build.os !== "linux") return "not Linux";
  if (!openclawAvailable) return `OpenClaw is unavailable: ${openclawSkipReason}`;
  if (Deno.uid() !== 0) return "not root (network namespaces need it)";
  const ip = which("ip");
  if (!ip) return "no ip (apt-get install iproute2)";
  if (!which("openssl")) return "no openssl (apt-get install openssl)";
  const probe = `clawauth-probe-${Deno.pid}`;
  if (!runs(ip, ["netns", "add", probe])) return "ip netns add does not work";
  runs(ip, ["netns", "del", probe]);
  return undefined;
}

/** Why the race test is skipped, or `undefined` when it can run. */
export const SKIP: string | undefined = raceSkipReason();
if (SKIP) console.error(`OpenClaw race test ignored: ${SKIP}.`);
/** iproute2's `ip`. */
export const IP: string = which("ip") ?? "ip";

// --- small tools -----------------------------------------------------------------

const decoder = new TextDecoder();
/** Resolves after `ms` (at once when it is not positive). */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** `promise`, or `fallback()` once `ms` have passed; the timer is cleared either way. */
export async function bounded<T>(promise: Promise<T>, ms: number, fallback: () => T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<T>((resolve, reject) => {
        timer = setTimeout(() => {
          try {
            resolve(fallback());
          } catch (error) {
            reject(error);
          }
        }, ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function must(program: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(program, { args, stdin: "null" }).output();
  if (!out.success) {
    throw new Error(`${program} ${args.join(" ")} failed: ${decoder.decode(out.stderr)}`);
  }
  return decoder.decode(out.stdout);
}

/** Polls `check` every `everyMs` until it returns a value, at most `timeoutMs`. */
export async function until<T>(
  what: string,
  timeoutMs: number,
  check: () => T | undefined | Promise<T | undefined>,
  everyMs = 10,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await sleep(everyMs);
  }
}

/** What one process printed and how it exited, with when it started and ended. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  pid: number;
  started: number;
  ended: number;
}

export async function finish(child: Deno.ChildProcess, started: number): Promise<Run> {
  const out = await child.output();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
    pid: child.pid,
    started,
    ended: Date.now(),
  };
}

// --- the namespace and the network side ------------------------------------------

export interface Net extends AsyncDisposable {
  ns: string;
  ca: string;
  issuer: string;
  clientId: string;
  authorizeUrl: string;
  approve(url: string): Promise<string>;
  log(): Promise<{ counts: Record<string, number>; token: TokenRequest[]; usage: UsageRequest[] }>;
  /** Holds each later refresh grant this long at the front (every client alike). */
  setTokenDelay(ms: number): Promise<void>;
  /** Closed: refresh grants wait at the front until it is opened. */
  setGate(open: boolean): Promise<void>;
}

/** Token requests held this long before the IdP sees them (the same for every client). */
export const TOKEN_DELAY_MS = 250;

export async function startNet(tmp: string): Promise<Net> {
  const ns = `clawauth-race-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const etc = `/etc/netns/${ns}`;
  let madeNetnsDir = false;
  let helper: Deno.ChildProcess | undefined;
  const cleanup = async () => {
    if (helper) {
      try {
        helper.kill("SIGTERM");
      } catch { /* gone */ }
      await bounded(helper.status.then(() => {}), 3_000, () => {});
    }
    // Whatever still runs in the namespace was started by this test.
    const pids = await must(IP, ["netns", "pids", ns]).catch(() => "");
    for (const pid of pids.split(/\s+/).filter(Boolean)) {
      try {
        Deno.kill(Number(pid), "SIGKILL");
      } catch { /* gone */ }
    }
    await must(IP, ["netns", "del", ns]).catch(() => {});
    await Deno.remove(etc, { recursive: true }).catch(() => {});
    if (madeNetnsDir) await Deno.remove("/etc/netns").catch(() => {}); // only if empty
  };
  try {
    await must(IP, ["netns", "add", ns]);
    try {
      Deno.statSync("/etc/netns");
    } catch {
      madeNetnsDir = true;
    }
    Deno.mkdirSync(etc, { recursive: true });
    Deno.writeTextFileSync(
      `${etc}/hosts`,
      `127.0.0.1 localhost\n${FRONT_ADDRESS} ${FRONT_NAMES.join(" ")}\n`,
    );
    await must(IP, ["-n", ns, "link", "set", "lo", "up"]);
    await must(IP, ["-n", ns, "addr", "add", `${FRONT_ADDRESS}/32`, "dev", "lo"]);
    helper = new Deno.Command(IP, {
      args: [
        "netns",
        "exec",
        ns,
        Deno.execPath(),
        "run",
        "--quiet",
        "--allow-all",
        `${ROOT}/scripts/refresh_race_net.ts`,
        "--dir",
        tmp,
        "--token-delay",
        String(TOKEN_DELAY_MS),
      ],
      cwd: ROOT,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = helper.stdin.getWriter();
    const reader = helper.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let stderrText = "";
    void (async () => {
      for await (const chunk of helper!.stderr.pipeThrough(new TextDecoderStream())) {
        stderrText += chunk;
      }
    })().catch(() => {});
    const waiting = new Map<number, (value: Record<string, unknown>) => void>();
    let ready: ((value: Record<string, unknown>) => void) | undefined;
    const readyLine = new Promise<Record<string, unknown>>((resolve) => ready = resolve);
    void (async () => {
      let buffered = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffered += value;
        let newline;
        while ((newline = buffered.indexOf("\n")) >= 0) {
          const message = JSON.parse(buffered.slice(0, newline));
          buffered = buffered.slice(newline + 1);
          if (message.ready) ready?.(message);
          else waiting.get(message.id)?.(message);
        }
      }
    })().catch(() => {});
    const exited = helper.status.then((s) => {
      throw new Error(`refresh_race_net.ts exited ${s.code}: ${stderrText}`);
    });
    exited.catch(() => {}); // reported only while waiting for the ready line
    const info = await bounded(Promise.race([readyLine, exited]), 60_000, () => {
      throw new Error(`refresh_race_net.ts was not ready within 60 s: ${stderrText}`);
    });
    let nextId = 1;
    const ask = async (request: Record<string, unknown>): Promise<Record<string, unknown>> => {
      const id = nextId++;
      const answer = new Promise<Record<string, unknown>>((resolve) => waiting.set(id, resolve));
      await writer.write(new TextEncoder().encode(JSON.stringify({ id, ...request }) + "\n"));
      const message = await bounded(
        answer,
        15_000,
        () => ({ error: `no answer to ${request.op} within 15 s` }),
      );
      waiting.delete(id);
      if (message.error) throw new Error(`refresh_race_net.ts: ${message.error}\n${stderrText}`);
      return message;
    };
    return {
      ns,
      ca: String(info.ca),
      issuer: String(info.issuer),
      clientId: String(info.clientId),
      authorizeUrl: String(info.authorizeUrl),
      approve: async (url) => String((await ask({ op: "approve", url })).url),
      setTokenDelay: async (ms) => {
        await ask({ op: "delay", ms });
      },
      setGate: async (open) => {
        await ask({ op: "gate", open });
      },
      log: async () => {
        const answer = await ask({ op: "log" });
        return answer as unknown as Awaited<ReturnType<Net["log"]>>;
      },
      async [Symbol.asyncDispose]() {
        await writer.close().catch(() => {});
        await cleanup();
      },
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
