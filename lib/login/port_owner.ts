/**
 * Which process listens on a local TCP port, so "port 1455 is in use" can
 * name the culprit: `ss` (or `lsof`) on Linux, `lsof` on macOS and the BSDs, `netstat`
 * and `tasklist` on Windows. Best effort: undefined when it cannot tell.
 *
 * @module
 */

/** A process holding a port. */
export interface PortOwner {
  pid: number;
  name?: string;
}

function run(program: string, args: string[]): string | undefined {
  try {
    const out = new Deno.Command(program, { args, stdin: "null", stdout: "piped", stderr: "null" })
      .outputSync();
    return new TextDecoder().decode(out.stdout);
  } catch {
    return undefined;
  }
}

/** `ss` (iproute2) names the process in `users:(("name",pid=N,fd=M))`. */
function ssOwner(port: number): PortOwner | undefined {
  const out = run("ss", ["-ltnpH", `sport = :${port}`]);
  const match = out && /users:\(\("((?:[^"\\]|\\.)*)",pid=(\d+)/.exec(out);
  return match ? { pid: Number(match[2]), name: match[1] } : undefined;
}

function lsofOwner(port: number): PortOwner | undefined {
  const out = run("lsof", ["-nP", `-iTCP:${port}`, "-sTCP:LISTEN", "-Fpc"]);
  const pid = out && /^p(\d+)$/m.exec(out)?.[1];
  if (!pid) return undefined;
  return { pid: Number(pid), name: /^c(.+)$/m.exec(out)?.[1] };
}

function windowsOwner(port: number): PortOwner | undefined {
  const out = run("netstat", ["-ano", "-p", "TCP"]);
  const line = out?.split(/\r?\n/).find((l) =>
    new RegExp(`:${port}\\s+\\S+\\s+LISTENING\\s+\\d+\\s*$`).test(l)
  );
  const pid = line && /(\d+)\s*$/.exec(line)?.[1];
  if (!pid) return undefined;
  const task = run("tasklist", ["/FI", `PID eq ${pid}`, "/FO", "CSV", "/NH"]);
  return { pid: Number(pid), name: task && /^"([^"]+)"/.exec(task.trim())?.[1] };
}

/** The process listening on 127.0.0.1:`port`, when this system lets us find out. */
export function portOwner(port: number): PortOwner | undefined {
  // Deno grants /proc only to --allow-all, so ask the system's own tools.
  if (Deno.build.os === "linux") return ssOwner(port) ?? lsofOwner(port);
  if (Deno.build.os === "windows") return windowsOwner(port);
  return lsofOwner(port);
}

/** "codex (pid 4242)", or "another process". */
export function describeOwner(owner: PortOwner | undefined): string {
  if (!owner) return "another process";
  return owner.name ? `${owner.name} (pid ${owner.pid})` : `pid ${owner.pid}`;
}
