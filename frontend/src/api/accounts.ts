/**
 * The Accounts page's data: GET /accounts as the standard page (contract §6: items, next_cursor), each
 * account with its usage per window, why it waits, whether it is simulated and the tasks using it.
 * Reactivate is `useReactivateAccount` (hooks.ts); its invalidation of `keys.accounts` refreshes this list too.
 */
import { useQuery } from "@tanstack/react-query";
import { api, type Schemas, unwrap } from "./client";
import { keys } from "./hooks";

export type Waiting = Schemas["WaitingOut"];
export type Account = Schemas["AccountOut"];
export interface AccountPage {
  items: Account[];
  next_cursor: string | null;
}

/** A list (the old answer) or a page: either reads as a page. */
export function asAccountPage(body: unknown): AccountPage {
  if (Array.isArray(body)) return { items: body as Account[], next_cursor: null };
  const page = (body ?? {}) as Partial<AccountPage>;
  return { items: page.items ?? [], next_cursor: page.next_cursor ?? null };
}

export const ACCOUNTS_PAGE_LIMIT = 100;

/** Every account of the user's (all pages: a user has a few dozen at most), refreshed each minute. */
export function useAccountList() {
  return useQuery({
    queryKey: [...keys.accounts, "page"],
    queryFn: async () => {
      const items: Account[] = [];
      let cursor: string | null = null;
      for (let n = 0; n < 20; n++) {
        const query = { limit: ACCOUNTS_PAGE_LIMIT, ...(cursor ? { cursor } : {}) };
        const body: unknown = await unwrap(api.GET("/api/v1/accounts", { params: { query } }));
        const page = asAccountPage(body);
        items.push(...page.items);
        cursor = page.next_cursor;
        if (!cursor) break;
      }
      return items;
    },
    refetchInterval: 60_000,
  });
}
