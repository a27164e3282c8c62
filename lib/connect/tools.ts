/**
 * The tools `connect` knows, in the order the help lists them.
 *
 * @module
 */

import { claudeCode } from "./claude_code.ts";
import { codex } from "./codex.ts";
import { gitTool } from "./git.ts";
import { openclawTool } from "./openclaw.ts";
import { pi } from "./pi.ts";
import type { ToolAdapter } from "./tool.ts";

/** Every adapter, by the name users type. */
export const TOOLS: readonly ToolAdapter[] = [claudeCode, codex, pi, gitTool, openclawTool];

/** The adapter named `name`, or `undefined`. */
export function findTool(name: string): ToolAdapter | undefined {
  return TOOLS.find((tool) => tool.name === name);
}
