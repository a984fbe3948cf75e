import { Button, Group, Text } from "@mantine/core";
import { IconChevronLeft, IconChevronRight } from "@tabler/icons-react";
import { useCallback, useState } from "react";
import { useTranslation } from "react-i18next";
import { num } from "../lib/format";

/** Where a keyset-paged list is: the cursor of the page shown, its number, and the moves. */
export interface CursorStack {
  cursor: string | undefined;
  page: number;
  next: (cursor: string) => void;
  prev: () => void;
  first: () => void;
}

/** Keyset paging: a stack of cursors (the API has no page numbers, only `next_cursor`); a new `resetKey` starts over. */
export function useCursorStack(resetKey: string): CursorStack {
  const [state, setState] = useState<{ key: string; stack: (string | undefined)[] }>({ key: resetKey, stack: [undefined] });
  const stack = state.key === resetKey ? state.stack : [undefined];
  if (state.key !== resetKey) setState({ key: resetKey, stack });
  const cursor = stack[stack.length - 1];
  const next = useCallback((c: string) => setState((s) => ({ key: resetKey, stack: [...s.stack, c] })), [resetKey]);
  const prev = useCallback(() => setState((s) => ({ key: resetKey, stack: s.stack.slice(0, -1) })), [resetKey]);
  const first = useCallback(() => setState({ key: resetKey, stack: [undefined] }), [resetKey]);
  return { cursor, page: stack.length, next, prev, first };
}

/** One keyset page as the API answers it (`Page[...]` in the service). */
export interface KeysetPage {
  items: readonly unknown[];
  total: number;
  next_cursor?: string | null;
}

/**
 * The footer of a keyset-paged list: "1–50 of 120 targets" and Previous / Next, driven by the list's
 * `useCursorStack`. Renders nothing while the page is loading or when the list is empty. `noun` names the
 * items in the UI's language (the caller translates it); without one the summary says just "1–50 of 120".
 */
export function KeysetPager({
  pages,
  data,
  pageSize,
  noun,
}: {
  pages: CursorStack;
  data: KeysetPage | undefined;
  pageSize: number;
  noun?: string;
}) {
  const { t } = useTranslation("shell");
  if (!data || data.total === 0) return null;
  const { page } = pages;
  const shown = data.items.length;
  const nextCursor = data.next_cursor;
  const from = shown === 0 ? 0 : (page - 1) * pageSize + 1;
  const to = (page - 1) * pageSize + shown;
  return (
    <Group justify="space-between" mt="sm" wrap="wrap" gap="xs">
      <Text size="sm" c="dimmed" data-testid="pager-summary">
        {noun ? t("pager.summary_noun", { from: num(from), to: num(to), total: num(data.total), noun }) : t("pager.summary", { from: num(from), to: num(to), total: num(data.total) })}
      </Text>
      <Group gap="xs">
        <Button variant="default" size="xs" leftSection={<IconChevronLeft size={14} />} disabled={page <= 1} onClick={pages.prev}>
          {t("pager.prev")}
        </Button>
        <Button
          variant="default"
          size="xs"
          rightSection={<IconChevronRight size={14} />}
          disabled={!nextCursor}
          onClick={() => nextCursor && pages.next(nextCursor)}
        >
          {t("pager.next")}
        </Button>
      </Group>
    </Group>
  );
}
