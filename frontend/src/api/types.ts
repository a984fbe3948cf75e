/** Short names for generated schemas (schema.d.ts) that several pages use. */
import type { Schemas } from "./client";

export type AccountOut = Schemas["AccountOut"];
export type AccountUsage = Schemas["WindowOut"];
export type LaneOut = Schemas["LaneOut"];
export type ImportValidateOut = Schemas["ValidateOut"];
export type ImportJobOut = Schemas["ImportJobOut"];
export type SuppressionIn = Schemas["SuppressionIn"];
export type SuppressionImportOut = Schemas["SuppressionImportOut"];
export type TaskStatsOut = Schemas["TaskStatsOut"];
