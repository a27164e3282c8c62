/**
 * `connect` and `disconnect` for tools whose config is a JSON file (Claude
 * Code, pi): set a few values in place and keep every other byte; record
 * what each path held before, so that after someone else edits the file
 * `disconnect` can still take out exactly clawauth's values (and the
 * containers it had to create), putting back any value it replaced.
 *
 * @module
 */

import type { Context } from "../context.ts";
import type { JsonObject } from "../json/json.ts";
import { warn } from "../output/output.ts";
import { reportConnected, reportDisconnected } from "./report.ts";
import type { ToolAdapter, ToolRun } from "./tool.ts";
import { type ConfigFile, readConfigFile } from "./config_file.ts";
import { recordOf, undoConnection, type UndoOutcome, writeConnection } from "./connection.ts";
import {
  hasValueAt,
  isEmptyObject,
  type JsonPath,
  parseJsonConfig,
  sameJson,
  valueAt,
  withValue,
} from "./json_config.ts";

/** One value `connect` sets. */
export interface JsonEdit {
  path: JsonPath;
  value: unknown;
}

/** What one JSON connection changes. */
export interface JsonPlan {
  tool: string;
  /** The config file, as the tool names it. */
  file: string;
  edits: readonly JsonEdit[];
  /** Print nothing, write nothing: only say what would change. */
  dryRun: boolean;
}

/** How one edit is undone when the file changed after `connect`. */
interface UndoEdit {
  path: string[];
  /** Whether the path held a value before clawauth's first connect, and which. */
  hadBefore: boolean;
  before?: unknown;
  after: unknown;
}

/** What `connect` did (for the caller's report). */
export interface JsonOutcome {
  file: ConfigFile;
  /** The edits that change something; empty when already connected. */
  changed: readonly JsonEdit[];
  /** The backup written, if any. */
  backup?: string;
}

/** Whether two values are equal however their keys are ordered. */
const same = sameJson;

/** The shallowest container on `path` that does not exist yet (clawauth makes it). */
function missingContainer(
  tree: ReturnType<typeof parseJsonConfig>,
  path: JsonPath,
): string[] | undefined {
  for (let depth = 1; depth < path.length; depth++) {
    if (!hasValueAt(tree, path.slice(0, depth))) return path.slice(0, depth);
  }
  return undefined;
}

function undoOf(undo: JsonObject | undefined): { edits: UndoEdit[]; created: string[][] } {
  const edits = Array.isArray(undo?.edits) ? undo.edits as UndoEdit[] : [];
  const created = Array.isArray(undo?.created) ? undo.created as string[][] : [];
  return { edits: structuredClone(edits), created: structuredClone(created) };
}

/**
 * Applies `plan`: only values that differ are written (a second run changes
 * nothing). With `dryRun` nothing is written.
 */
export async function connectJson(stateDir: string, plan: JsonPlan): Promise<JsonOutcome> {
  const file = readConfigFile(plan.file);
  const tree = parseJsonConfig(file.path, file.text ?? "");
  const { record } = await recordOf(stateDir, { tool: plan.tool, file });
  const { edits, created } = undoOf(record?.undo);
  let text = file.text ?? "";
  const changed: JsonEdit[] = [];
  for (const edit of plan.edits) {
    const held = hasValueAt(tree, edit.path);
    const current = valueAt(tree, edit.path);
    if (held && same(current, edit.value)) continue;
    const container = missingContainer(tree, edit.path);
    if (container && !created.some((c) => same(c, container))) created.push(container);
    const known = edits.find((e) => same(e.path, edit.path));
    if (known) known.after = edit.value;
    else {
      edits.push({
        path: [...edit.path],
        hadBefore: held,
        ...(held ? { before: current } : {}),
        after: edit.value,
      });
    }
    text = withValue(text, edit);
    changed.push(edit);
  }
  if (changed.length === 0 || plan.dryRun) return { file, changed };
  // An edit must never leave a file the tool cannot read.
  parseJsonConfig(file.path, text);
  const backup = await writeConnection(stateDir, {
    tool: plan.tool,
    file,
    text,
    undo: { edits, created } as unknown as JsonObject,
  });
  return { file, changed, ...(backup ? { backup } : {}) };
}

/**
 * Undoes the connection recorded for `tool` and `file`: the exact previous
 * text while the file reads as clawauth left it; else clawauth's values only
 * (a value someone changed since is left, with a warning).
 */
export function disconnectJson(
  ctx: Context,
  target: { stateDir: string; tool: string; file: string; dryRun: boolean },
): Promise<UndoOutcome> {
  return undoConnection(target.stateDir, {
    tool: target.tool,
    path: target.file,
    dryRun: target.dryRun,
    partial(current, record) {
      const tree = parseJsonConfig(target.file, current);
      const { edits, created } = undoOf(record.undo);
      let text = current;
      for (const edit of [...edits].reverse()) {
        if (!hasValueAt(tree, edit.path)) continue;
        if (!same(valueAt(tree, edit.path), edit.after)) {
          warn(
            ctx,
            `${target.file}: ${
              edit.path.join(".")
            } was changed after clawauth connected ${target.tool}; left as it is.`,
          );
          continue;
        }
        text = withValue(text, {
          path: edit.path,
          value: edit.hadBefore ? edit.before : undefined,
        });
      }
      // Containers clawauth made go again once they are empty, deepest first.
      for (const container of [...created].sort((a, b) => b.length - a.length)) {
        const now = parseJsonConfig(target.file, text);
        if (hasValueAt(now, container) && isEmptyObject(valueAt(now, container))) {
          text = withValue(text, { path: container, value: undefined });
        }
      }
      const emptied = record.undo.createdFile === true &&
        isEmptyObject(valueAt(parseJsonConfig(target.file, text), []));
      return emptied ? undefined : text;
    },
  });
}

/** How a JSON-configured tool's connect reads back to the user (see {@linkcode reportConnected}). */
export interface JsonToolReport {
  /** The entry as it reads in the file. */
  snippet: string;
  /** When the tool asks again. */
  caching: string;
}

/**
 * A JSON-configured tool's `connect`: apply `edits` to `file` (a dry run
 * writes nothing) and say what changed.
 */
export async function connectJsonTool(
  run: ToolRun,
  plan: Omit<JsonPlan, "dryRun"> & JsonToolReport,
): Promise<void> {
  const { tool, file, edits, snippet, caching } = plan;
  const outcome = await connectJson(run.paths.stateDir, { tool, file, edits, dryRun: run.dryRun });
  reportConnected(run.ctx, {
    tool,
    file,
    dryRun: run.dryRun,
    changed: outcome.changed.length > 0,
    backup: outcome.backup,
    snippet,
    caching,
  });
}

/** A JSON-configured tool's `disconnect`: undo what connect recorded for `file`, and say so. */
export async function disconnectJsonTool(run: ToolRun, tool: string, file: string): Promise<void> {
  const outcome = await disconnectJson(run.ctx, {
    stateDir: run.paths.stateDir,
    tool,
    file,
    dryRun: run.dryRun,
  });
  reportDisconnected(run.ctx, { tool, ...outcome, dryRun: run.dryRun });
}

/** A tool's JSON config as `connect` finds it. */
export interface JsonConfig {
  /** The config file, as the tool names it. */
  file: string;
  /** Its parse tree (`undefined` for a missing or blank file). */
  tree: ReturnType<typeof parseJsonConfig>;
}

/** What one JSON-configured tool's adapter is made of (see {@linkcode jsonToolAdapter}). */
export interface JsonToolSpec {
  /** The name on the command line, e.g. `claude-code`. */
  name: string;
  /** One line for the help text. */
  summary: string;
  /** Flags only this tool takes (default none). */
  flags?: readonly string[];
  /** Where the tool keeps the config clawauth edits. */
  file(ctx: Context): string;
  /** Writes clawauth into `config` (through {@linkcode connectJsonTool}) and warns about what bypasses it. */
  connect(run: ToolRun, config: JsonConfig): Promise<void>;
}

/**
 * The adapter of a JSON-configured tool: it takes `--provider` / `--profile`
 * and the flags its spec names, is handed its config already parsed (a broken
 * file stops connect before anything is written), and disconnects by undoing
 * what the record of that file says.
 */
export function jsonToolAdapter(spec: JsonToolSpec): ToolAdapter {
  return {
    name: spec.name,
    summary: spec.summary,
    flags: spec.flags ?? [],
    selects: true,
    async connect(run) {
      const file = spec.file(run.ctx);
      const tree = parseJsonConfig(file, readConfigFile(file).text ?? "");
      await spec.connect(run, { file, tree });
    },
    disconnect: (run) => disconnectJsonTool(run, spec.name, spec.file(run.ctx)),
  };
}
