// The outcome reasons catalogue (GET /api/v1/meta/reasons, contract §2): what each error code means, in
// English and Russian, and whether a retry can help. Fetched once per session; an unknown code (or a
// service without the catalogue) falls back to the code itself.
import { useQuery } from "@tanstack/react-query";
import { useCallback } from "react";
import { useTranslation } from "react-i18next";
import { currentLang } from "../i18n";
import { api, type Schemas, unwrap } from "./client";

export type Reason = Schemas["ReasonOut"];
export type ReasonKind = Reason["kind"];

export const reasonKeys = { all: ["meta", "reasons"] as const };

export function useReasons() {
  return useQuery({
    queryKey: reasonKeys.all,
    queryFn: async () => {
      const out = await unwrap(api.GET("/api/v1/meta/reasons", {}));
      return new Map(out.reasons.map((r) => [r.code, r]));
    },
    staleTime: Infinity,
    gcTime: Infinity,
    retry: false,
  });
}

export interface Explained {
  code: string;
  /** The sentence in the UI's language, or the code when the catalogue does not know it. */
  text: string;
  /** undefined when the code is not in the catalogue. */
  kind: ReasonKind | undefined;
}

/** Pure: `code` explained from `catalogue` in `lang`. */
export function explain(catalogue: Map<string, Reason> | undefined, code: string, lang: "en" | "ru"): Explained {
  const r = catalogue?.get(code);
  return { code, text: (r && (lang === "ru" ? r.ru : r.en)) || code, kind: r?.kind };
}

/** `const why = useExplain(); why("PEER_FLOOD").text` — follows the language switch. */
export function useExplain(): (code: string) => Explained {
  const reasons = useReasons();
  const { i18n } = useTranslation();
  const lang = i18n.resolvedLanguage?.startsWith("ru") ? "ru" : currentLang();
  return useCallback((code: string) => explain(reasons.data, code, lang), [reasons.data, lang]);
}
