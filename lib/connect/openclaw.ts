/**
 * OpenClaw: `clawauth openclaw-secret` as the exec SecretRef provider
 * `secrets.providers.clawauth` in `openclaw.json`. OpenClaw's config is
 * JSON5 and validated by OpenClaw, so clawauth applies it with OpenClaw's
 * own command (`openclaw config patch --stdin`, `openclaw config unset`)
 * when `openclaw` is on PATH, and otherwise prints the entry and the command
 * to run. OpenClaw runs the provider with an empty environment (plus
 * `passEnv`) and caches the values until `openclaw secrets reload`.
 *
 * @module
 */

import type { Context } from "../context.ts";
import { ClawauthError, Exit, usageError } from "../errors.ts";
import { readTextIfExists, writeFileAtomic } from "../fs/files.ts";
import { isObject, type JsonObject, own } from "../json/json.ts";
import { parseJson5 } from "../json/json5.ts";
import { warn } from "../output/output.ts";
import { onPath } from "../commands/setup_token.ts";
import { sameJson } from "./json_config.ts";
import { deleteRecord, readRecord, recordPath, recordProgramEdit } from "./record.ts";
import { indent, reportConnected } from "./report.ts";
import { isCompiled } from "./self_command.ts";
import type { ToolAdapter, ToolRun } from "./tool.ts";

const TOOL = "openclaw";
/** The provider name in OpenClaw's `secrets.providers`. */
const NAME = "clawauth";
/** A refresh under the store lock can outlast OpenClaw's 5 s default. */
const TIMEOUT_MS = 15_000;

/** The exec provider entry for this clawauth. */
function providerEntry(run: ToolRun): JsonObject {
  const [program, ...fixed] = run.self;
  // OpenClaw wants the real file, not a link (it refuses symlinks).
  const command = Deno.realPathSync(program);
  // From source, Deno itself needs HOME (its cache); the binary needs nothing.
  const passEnv = isCompiled() ? [] : ["HOME", ...(run.ctx.env("DENO_DIR") ? ["DENO_DIR"] : [])];
  return {
    source: "exec",
    command,
    args: [...fixed, "openclaw-secret", ...run.state],
    passEnv,
    jsonOnly: true,
    timeoutMs: TIMEOUT_MS,
  };
}

/** openclaw.json as data, or `{}` when missing; unreadable is exit 65 naming it. */
function readOpenclawJson(path: string): JsonObject {
  const text = readTextIfExists(path);
  if (text === undefined) return {};
  let data: unknown;
  try {
    data = parseJson5(text);
  } catch {
    throw new ClawauthError(
      `${path} is not valid JSON5; clawauth left it untouched.`,
      Exit.data,
      "Fix it with OpenClaw (openclaw config validate), then run the command again.",
    );
  }
  return isObject(data) ? data : {};
}

function providersOf(config: JsonObject): JsonObject | undefined {
  const secrets = own(config, "secrets");
  const providers = isObject(secrets) ? own(secrets, "providers") : undefined;
  return isObject(providers) ? providers : undefined;
}

/** Warns when OpenClaw would refuse to run the command (not the user's, or writable by others). */
function warnOwnership(ctx: Context, command: string): void {
  if (Deno.build.os === "windows") return;
  const info = Deno.statSync(command);
  const uid = Deno.uid();
  if ((uid !== null && info.uid !== uid) || ((info.mode ?? 0) & 0o022) !== 0) {
    warn(
      ctx,
      `OpenClaw only runs an exec provider owned by you and not writable by others; ${command} is not: copy clawauth's binary somewhere you own (scripts/install.sh does).`,
    );
  }
}

/** Runs OpenClaw's CLI (`program`) on clawauth's state dir, which is OpenClaw's. */
async function openclaw(
  run: ToolRun,
  command: { program: string; args: string[]; stdin?: string },
): Promise<void> {
  const { program, args, stdin } = command;
  const child = new Deno.Command(program, {
    args,
    env: { OPENCLAW_STATE_DIR: run.paths.stateDir },
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const output = await child.output();
  if (!output.success) {
    const said = new TextDecoder().decode(output.stderr).trim().split("\n").pop() ?? "";
    throw new ClawauthError(
      `openclaw ${args.slice(0, 2).join(" ")} failed (exit ${output.code}): ${said.slice(0, 300)}`,
      Exit.failure,
      "Run it by hand to see OpenClaw's full message.",
    );
  }
}

/** The `openclaw` adapter. */
export const openclawTool: ToolAdapter = {
  name: TOOL,
  summary:
    "exec SecretRef provider secrets.providers.clawauth (applied with openclaw config patch)",
  flags: [],
  selects: false,
  async connect(run) {
    const { ctx } = run;
    if (run.request.provider || run.request.profileId) {
      throw usageError(
        "connect openclaw takes no --provider or --profile: each OpenClaw SecretRef names its profile or provider id.",
        "connect",
      );
    }
    const file = run.paths.openclawConfig;
    const entry = providerEntry(run);
    warnOwnership(ctx, String(entry.command));
    const patch = { secrets: { providers: { [NAME]: entry } } };
    const config = readOpenclawJson(file);
    const done = sameJson(own(providersOf(config) ?? {}, NAME), entry);
    const snippet = JSON.stringify(patch, null, 2);
    const apply =
      `openclaw config patch --stdin --replace-path secrets.providers.${NAME} < patch.json`;
    const program = onPath(ctx, "openclaw");
    if (done || run.dryRun || !program) {
      const head = done
        ? `openclaw was already connected: ${file} holds`
        : run.dryRun
        ? `Would apply to ${file}:`
        : `openclaw is not on PATH; add this to ${file} (or run: ${apply}):`;
      ctx.out(`${head}\n${indent(snippet)}\n`);
      if (!done && !run.dryRun) {
        ctx.out(
          "Then point token or api_key profiles at it (openclaw secrets apply; see clawauth openclaw-secret --help).\n",
        );
      }
      return;
    }
    const text = readTextIfExists(file);
    const backup = text === undefined ? undefined : `${file}.clawauth-backup`;
    if (backup !== undefined) writeFileAtomic(backup, text ?? "");
    const recordAt = await recordPath(run.paths.stateDir, { tool: TOOL, file });
    const previous = readRecord(recordAt)?.undo;
    const secrets = own(config, "secrets");
    await openclaw(run, {
      program,
      args: ["config", "patch", "--stdin", "--replace-path", `secrets.providers.${NAME}`],
      stdin: JSON.stringify(patch),
    });
    await recordProgramEdit(recordAt, {
      tool: TOOL,
      file,
      undo: previous ?? {
        createdSecrets: !isObject(secrets),
        createdProviders: providersOf(config) === undefined,
      },
    });
    reportConnected(ctx, {
      tool: TOOL,
      file,
      dryRun: false,
      changed: true,
      backup,
      snippet,
      caching:
        "OpenClaw caches the values it resolves until openclaw secrets reload (or a gateway restart): use it for setup-tokens and API keys.",
    });
  },
  async disconnect(run) {
    const { ctx } = run;
    const file = run.paths.openclawConfig;
    const recordAt = await recordPath(run.paths.stateDir, { tool: TOOL, file });
    const undo = readRecord(recordAt)?.undo;
    if (undo === undefined) {
      ctx.out(`clawauth has no record of connecting openclaw to ${file}; nothing to undo.\n`);
      return;
    }
    // The shallowest container clawauth created goes, when nothing else was put in it since.
    const config = readOpenclawJson(file);
    const providers = providersOf(config) ?? {};
    const secrets = own(config, "secrets");
    const onlyOurs = Object.keys(providers).every((key) => key === NAME);
    const path = undo.createdSecrets === true && onlyOurs && isObject(secrets) &&
        Object.keys(secrets).every((key) => key === "providers")
      ? "secrets"
      : undo.createdProviders === true && onlyOurs
      ? "secrets.providers"
      : `secrets.providers.${NAME}`;
    const program = onPath(ctx, "openclaw");
    if (run.dryRun || !program) {
      ctx.out(
        run.dryRun
          ? `Would run: openclaw config unset ${path}\n`
          : `openclaw is not on PATH; remove ${path} from ${file} (or run: openclaw config unset ${path}).\n`,
      );
      return;
    }
    if (own(providers, NAME) !== undefined) {
      const text = readTextIfExists(file);
      if (text !== undefined) writeFileAtomic(`${file}.clawauth-backup`, text);
      await openclaw(run, { program, args: ["config", "unset", path] });
    }
    deleteRecord(recordAt);
    ctx.out(`Removed ${path} from ${file} (with openclaw config unset).\n`);
  },
};
