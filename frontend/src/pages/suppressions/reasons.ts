import type { SuppressionReason } from "../../api/suppressions";

export const REASONS: { value: SuppressionReason; label: string }[] = [
  { value: "opt_out", label: "Asked to be left out" },
  { value: "blocked_us", label: "Blocked us" },
  { value: "complaint", label: "Complained" },
  { value: "manual", label: "Other" },
];
